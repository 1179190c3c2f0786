//! `$connect` authorizer: verifies the JWT passed as the `token` query parameter
//! (browsers cannot set headers on a WebSocket). API Gateway answers 401 when the
//! authorizer fails with "Unauthorized", and copies `context` into every later
//! event of the connection, so no route has to look the caller up again.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayCustomAuthorizerRequestTypeRequest, ApiGatewayCustomAuthorizerResponse};
use serde_json::json;
use shared::AppContext;
use shared::auth::verify_token;
use shared::lambda::HandlerError;
use shared::websocket::authorizer_context;

/// The exact error message API Gateway turns into 401.
pub const UNAUTHORIZED: &str = "Unauthorized";

pub async fn handle(
    ctx: Arc<AppContext>,
    event: ApiGatewayCustomAuthorizerRequestTypeRequest,
) -> Result<ApiGatewayCustomAuthorizerResponse, HandlerError> {
    let token = event.query_string_parameters.first("token").unwrap_or_default();
    let who = verify_token(&ctx.config.jwt_secret, token).map_err(|_| {
        tracing::info!("connection refused: missing, invalid or expired token");
        HandlerError::from(UNAUTHORIZED)
    })?;
    let resource = event.method_arn.unwrap_or_else(|| "*".into());
    let response = json!({
        "principalId": who.user_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{ "Action": "execute-api:Invoke", "Effect": "Allow", "Resource": resource }]
        },
        "context": authorizer_context(&who)
    });
    Ok(serde_json::from_value(response)?)
}
