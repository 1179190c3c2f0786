//! `setPrivacy` route: the caller's privacy settings (who sees their
//! presence, whether they send and see read receipts); none given reads them.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use domain::protocol::SetPrivacyRequest;
use domain::{AppContext, messaging};
use transport::lambda::HandlerError;
use transport::websocket::route;

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<SetPrivacyRequest, _, _>(&event, |who, request| async move { messaging::set_privacy(&ctx, &who, request.body).await }).await)
}
