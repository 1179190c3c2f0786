//! `$connect` authorizer: verifies the JWT passed as the `token` query parameter
//! (browsers cannot set headers on a WebSocket). API Gateway answers 401 when the
//! authorizer fails with "Unauthorized", and copies `context` into every later
//! event of the connection, so no route has to look the caller up again.
//! A token of an unregistered device is refused; a device over the user's
//! device limit connects marked unregistered (see `messaging::devices`).

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayCustomAuthorizerRequestTypeRequest, ApiGatewayCustomAuthorizerResponse};
use serde_json::json;
use shared::AppContext;
use shared::AppError;
use shared::auth::verify_token;
use shared::auth::{authorizer_context, unregistered_device_context};
use shared::lambda::HandlerError;
use shared::messaging::devices::{Admission, admit};

/// The exact error message API Gateway turns into 401.
pub const UNAUTHORIZED: &str = "Unauthorized";

pub async fn handle(
    ctx: Arc<AppContext>,
    event: ApiGatewayCustomAuthorizerRequestTypeRequest,
) -> Result<ApiGatewayCustomAuthorizerResponse, HandlerError> {
    let token = event.query_string_parameters.first("token").unwrap_or_default();
    let refused = |_| {
        tracing::info!("connection refused: missing, invalid, expired or revoked token");
        HandlerError::from(UNAUTHORIZED)
    };
    let key = ctx.signing_key().await.map_err(|e| HandlerError::from(e.to_string()))?;
    let token = verify_token(key, token).map_err(refused)?;
    let admission = match admit(&ctx, &token).await {
        // A backend failure is not a refusal: API Gateway answers 500 and the client retries.
        Err(AppError::Internal(cause) | AppError::Unavailable(cause)) => return Err(HandlerError::from(cause.to_string())),
        other => other.map_err(refused)?,
    };
    let who = token.identity;
    let context = match admission {
        Admission::OverLimit => unregistered_device_context(&who),
        Admission::Registered | Admission::New => authorizer_context(&who),
    };
    let resource = event.method_arn.unwrap_or_else(|| "*".into());
    let response = json!({
        "principalId": who.user_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{ "Action": "execute-api:Invoke", "Effect": "Allow", "Resource": resource }]
        },
        "context": context
    });
    Ok(serde_json::from_value(response)?)
}
