//! The HTTP API's Lambda authorizer (payload 2.0, simple responses): verifies
//! the same JWT as the WebSocket `$connect` authorizer, sent as
//! `Authorization: Bearer <token>` (a header without the scheme is refused). API Gateway answers 401 itself when the
//! header is missing, 403 when this says no, and caches a yes per token for
//! the template's `ReauthorizeEvery`; the context reaches every handler as
//! `requestContext.authorizer.lambda`.
//!
//! (API Gateway's built-in JWT authorizer needs an OIDC issuer publishing RSA
//! keys; these tokens are HS256 with the deployment's secret.)
//!
//! Tokens of unregistered devices, and of devices over the user's limit, are
//! refused. A yes is cached for `ReauthorizeEvery` (60 s): that long a device
//! unregistered meanwhile keeps the HTTP API with a token it already used.
//! The cache may outlive the token, so the context carries its `exp` and
//! `http::caller` refuses it once past.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayV2CustomAuthorizerSimpleResponse, ApiGatewayV2CustomAuthorizerV2Request};
use domain::AppContext;
use domain::AppError;
use domain::auth::authorizer_context;
use domain::auth::{bearer_token, verify_token};
use domain::messaging::devices::{Admission, admit};
use serde_json::json;
use transport::lambda::HandlerError;

pub async fn handle(
    ctx: Arc<AppContext>,
    event: ApiGatewayV2CustomAuthorizerV2Request,
) -> Result<ApiGatewayV2CustomAuthorizerSimpleResponse, HandlerError> {
    let header = event.headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let key = ctx.signing_key().await.map_err(|e| HandlerError::from(e.to_string()))?;
    let verified = bearer_token(header).ok_or(AppError::Unauthorized).and_then(|token| verify_token(key, token));
    let admitted = match verified {
        Ok(token) => match admit(&ctx, &token).await {
            Ok(Admission::Registered | Admission::New) => Some(token),
            Ok(Admission::OverLimit) | Err(AppError::Unauthorized) => None,
            Err(e) => return Err(HandlerError::from(e.to_string())),
        },
        Err(_) => None,
    };
    let response = match admitted {
        Some(token) => json!({ "isAuthorized": true, "context": authorizer_context(&token) }),
        None => {
            tracing::info!("HTTP request refused: invalid, expired or revoked token, or unregistered device");
            json!({ "isAuthorized": false, "context": {} })
        }
    };
    Ok(serde_json::from_value(response)?)
}
