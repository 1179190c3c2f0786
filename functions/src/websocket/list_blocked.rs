//! `listBlocked` route: whom the caller blocks (only ever their own list).

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use domain::protocol::ListBlockedRequest;
use domain::{AppContext, messaging};
use transport::lambda::HandlerError;
use transport::websocket::route;

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<ListBlockedRequest, _, _>(&event, |who, _| async move { messaging::list_blocked(&ctx, &who).await }).await)
}
