//! The push port: notifications to devices that are offline (SNS mobile push
//! when deployed: `notifier`).

use async_trait::async_trait;

use crate::error::PushError;

/// A device's endpoint after registering its token.
#[derive(Debug)]
pub struct Registered {
    pub endpoint_arn: String,
    /// The device key that owned the endpoint before this registration took it over.
    pub taken_from: Option<String>,
}

/// How a publish ended, when SNS answered.
#[derive(Debug, PartialEq, Eq)]
pub enum Published {
    Sent,
    /// The platform disabled the endpoint (app uninstalled, token expired).
    EndpointDisabled,
}

/// Push endpoints and publishing to them.
#[async_trait]
pub trait Push: Send + Sync {
    /// The endpoint for `token` in `application`, recording `owner` (a device
    /// key) on it as `CustomUserData`. A token that already has an endpoint
    /// with other attributes (the phone changed hands, or another account
    /// signed in on it) is taken over: SNS names that endpoint in its
    /// `InvalidParameter` refusal, and the owner it had is returned so its
    /// record can be cleared.
    async fn endpoint_for(&self, application: &str, token: &str, owner: &str) -> Result<Registered, PushError>;

    /// Deletes an endpoint if `owner` still owns it; one another device took
    /// over (same token) is left to its new owner. Returns whether it was
    /// deleted; an endpoint already gone is not an error.
    async fn delete_endpoint_of(&self, endpoint_arn: &str, owner: &str) -> Result<bool, PushError>;

    /// Publishes a `MessageStructure: json` payload to one endpoint.
    async fn publish(&self, endpoint_arn: &str, payload: String) -> Result<Published, PushError>;
}
