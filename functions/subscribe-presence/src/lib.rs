//! `subscribePresence` route: presence of people the caller shares a chat with, and changes for the next minutes.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use shared::AppContext;
use shared::lambda::HandlerError;
use shared::messaging::presence;
use shared::protocol::SubscribePresenceRequest;
use shared::websocket::{connection_id, route};

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    let connection = connection_id(&event).unwrap_or_default().to_owned();
    Ok(route::<SubscribePresenceRequest, _, _>(&event, |who, request| async move {
        presence::subscribe_presence(&ctx, &who, &connection, request.body.user_ids).await
    })
    .await)
}
