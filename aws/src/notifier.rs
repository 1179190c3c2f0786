//! Mobile push through SNS: the one module that calls SNS. A device's push
//! token becomes a platform endpoint; a push is a publish to it.

use async_trait::async_trait;

use aws_sdk_sns::error::ProvideErrorMetadata;
use aws_sdk_sns::operation::publish::PublishError;
use domain::ports::{Published, Push, Registered};

use domain::error::PushError;

#[derive(Clone)]
pub struct Notifier {
    client: aws_sdk_sns::Client,
}

impl Notifier {
    pub fn new(client: aws_sdk_sns::Client) -> Self {
        Self { client }
    }

    /// The device key recorded on an endpoint, or `None` when the endpoint is gone.
    async fn owner_of(&self, endpoint_arn: &str) -> Result<Option<String>, PushError> {
        match self.client.get_endpoint_attributes().endpoint_arn(endpoint_arn).send().await {
            Ok(out) => Ok(Some(out.attributes.unwrap_or_default().remove("CustomUserData").unwrap_or_default())),
            Err(e) if is_not_found(e.code()) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

#[async_trait]
impl Push for Notifier {
    async fn endpoint_for(&self, application: &str, token: &str, owner: &str) -> Result<Registered, PushError> {
        // The endpoint found may be deleted before it is taken over (its owner
        // unregistering at the same moment): then the token has none, and
        // creating it again makes one.
        const ATTEMPTS: usize = 3;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let created = self
                .client
                .create_platform_endpoint()
                .platform_application_arn(application)
                .token(token)
                .custom_user_data(owner)
                .send()
                .await;
            let err = match created {
                Ok(out) => return Ok(Registered { endpoint_arn: out.endpoint_arn.ok_or(PushError::NoEndpoint)?, taken_from: None }),
                Err(err) => err,
            };
            let existing = (err.code() == Some("InvalidParameter"))
                .then(|| err.message())
                .flatten()
                .and_then(|message| message.split("Endpoint ").nth(1))
                .and_then(|rest| rest.split(' ').next())
                .filter(|arn| arn.starts_with("arn:"))
                .map(str::to_owned);
            let Some(arn) = existing else { return Err(err.into()) };
            let Some(previous) = self.owner_of(&arn).await? else {
                if attempt < ATTEMPTS {
                    continue;
                }
                return Err(PushError::NoEndpoint);
            };
            let taken_from = Some(previous).filter(|previous| previous != owner);
            let set = self
                .client
                .set_endpoint_attributes()
                .endpoint_arn(&arn)
                .attributes("CustomUserData", owner)
                .attributes("Enabled", "true")
                .send()
                .await;
            match set {
                Ok(_) => return Ok(Registered { endpoint_arn: arn, taken_from }),
                Err(e) if is_not_found(e.code()) && attempt < ATTEMPTS => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    async fn delete_endpoint_of(&self, endpoint_arn: &str, owner: &str) -> Result<bool, PushError> {
        if self.owner_of(endpoint_arn).await?.as_deref() != Some(owner) {
            return Ok(false);
        }
        match self.client.delete_endpoint().endpoint_arn(endpoint_arn).send().await {
            Ok(_) => Ok(true),
            // Deleted meanwhile (by a racing unregister of the same device).
            Err(e) if is_not_found(e.code()) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    async fn publish(&self, endpoint_arn: &str, payload: String) -> Result<Published, PushError> {
        match self.client.publish().target_arn(endpoint_arn).message_structure("json").message(payload).send().await {
            Ok(_) => Ok(Published::Sent),
            Err(e) if e.as_service_error().is_some_and(PublishError::is_endpoint_disabled_exception) => Ok(Published::EndpointDisabled),
            Err(e) => Err(e.into()),
        }
    }
}

/// SNS's answer for an endpoint that does not exist (`NotFoundException`).
fn is_not_found(code: Option<&str>) -> bool {
    matches!(code, Some("NotFound" | "ResourceNotFound"))
}
