//! `setPrivacy` route: the caller's privacy settings (who sees their
//! presence, whether they send and see read receipts); none given reads them.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use shared::lambda::HandlerError;
use shared::protocol::SetPrivacyRequest;
use shared::websocket::route;
use shared::{AppContext, messaging};

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<SetPrivacyRequest, _, _>(&event, |who, request| async move { messaging::set_privacy(&ctx, &who, request.body).await }).await)
}
