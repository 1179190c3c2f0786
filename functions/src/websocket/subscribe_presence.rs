//! `subscribePresence` route: presence of people the caller shares a chat with, and changes for the next minutes.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use domain::AppContext;
use domain::messaging::presence;
use domain::protocol::SubscribePresenceRequest;
use transport::lambda::HandlerError;
use transport::websocket::route;

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<SubscribePresenceRequest, _, _>(&event, |who, request| async move {
        presence::subscribe_presence(&ctx, &who, &request.connection_id, request.body.user_ids).await
    })
    .await)
}
