//! `$connect` authorizer: verifies the JWT passed as the `token` query parameter
//! (browsers cannot set headers on a WebSocket). API Gateway answers 401 when the
//! authorizer fails with "Unauthorized", and copies `context` into every later
//! event of the connection, so no route has to look the caller up again.
//! A token of an unregistered device is refused; a device over the user's
//! device limit connects marked unregistered (see `messaging::devices`).

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayCustomAuthorizerRequestTypeRequest, ApiGatewayCustomAuthorizerResponse};
use domain::AppContext;
use domain::AppError;
use domain::auth::verify_token;
use domain::auth::{authorizer_context, unregistered_device_context};
use domain::messaging::devices::{Admission, admit};
use serde_json::json;
use transport::lambda::HandlerError;

/// The exact error message API Gateway turns into 401.
pub const UNAUTHORIZED: &str = "Unauthorized";

pub async fn handle(
    ctx: Arc<AppContext>,
    event: ApiGatewayCustomAuthorizerRequestTypeRequest,
) -> Result<ApiGatewayCustomAuthorizerResponse, HandlerError> {
    // API Gateway passes the last of repeated parameters in `queryStringParameters`;
    // a URL naming two tokens is refused rather than guessed at.
    let tokens = event.multi_value_query_string_parameters.all("token").unwrap_or_default();
    let token = match tokens.as_slice() {
        [] => "",
        [token] => token,
        _ => {
            tracing::info!("connection refused: more than one token");
            return Err(HandlerError::from(UNAUTHORIZED));
        }
    };
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
    let context = match admission {
        Admission::OverLimit => unregistered_device_context(&token),
        Admission::Registered | Admission::New => authorizer_context(&token),
    };
    let who = token.identity;
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
