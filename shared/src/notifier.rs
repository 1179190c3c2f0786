//! Mobile push through SNS: the one module that calls SNS. A device's push
//! token becomes a platform endpoint; a push is a publish to it.

use aws_sdk_sns::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sns::operation::publish::PublishError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use crate::error::{CallFailure, PushError};

#[derive(Clone)]
pub struct Notifier {
    client: aws_sdk_sns::Client,
}

/// How a publish ended, when SNS answered.
#[derive(Debug, PartialEq, Eq)]
pub enum Published {
    Sent,
    /// The platform disabled the endpoint (app uninstalled, token expired).
    EndpointDisabled,
}

fn failed<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(err: SdkError<E, HttpResponse>) -> PushError {
    PushError::Call(CallFailure::of(&err))
}

impl Notifier {
    pub fn new(client: aws_sdk_sns::Client) -> Self {
        Self { client }
    }

    /// The endpoint for `token` in `application`, recording `owner` on it. A
    /// token that already has an endpoint with other attributes (another
    /// owner of this phone) is taken over: SNS names that endpoint in its
    /// `InvalidParameter` refusal.
    pub async fn endpoint_for(&self, application: &str, token: &str, owner: &str) -> Result<String, PushError> {
        let created =
            self.client.create_platform_endpoint().platform_application_arn(application).token(token).custom_user_data(owner).send().await;
        let err = match created {
            Ok(out) => return out.endpoint_arn.ok_or(PushError::NoEndpoint),
            Err(err) => err,
        };
        let existing = (err.code() == Some("InvalidParameter"))
            .then(|| err.message())
            .flatten()
            .and_then(|message| message.split("Endpoint ").nth(1))
            .and_then(|rest| rest.split(' ').next())
            .filter(|arn| arn.starts_with("arn:"))
            .map(str::to_owned);
        let Some(arn) = existing else { return Err(failed(err)) };
        self.client
            .set_endpoint_attributes()
            .endpoint_arn(&arn)
            .attributes("CustomUserData", owner)
            .attributes("Enabled", "true")
            .send()
            .await
            .map_err(failed)?;
        Ok(arn)
    }

    /// Deletes an endpoint. Idempotent: SNS answers success for one already gone.
    pub async fn delete_endpoint(&self, endpoint_arn: &str) -> Result<(), PushError> {
        self.client.delete_endpoint().endpoint_arn(endpoint_arn).send().await.map_err(failed)?;
        Ok(())
    }

    /// Publishes a `MessageStructure: json` payload to one endpoint.
    pub async fn publish(&self, endpoint_arn: &str, payload: String) -> Result<Published, PushError> {
        match self.client.publish().target_arn(endpoint_arn).message_structure("json").message(payload).send().await {
            Ok(_) => Ok(Published::Sent),
            Err(e) if e.as_service_error().is_some_and(PublishError::is_endpoint_disabled_exception) => Ok(Published::EndpointDisabled),
            Err(e) => Err(failed(e)),
        }
    }
}
