//! `modifyChatParticipants` route: admins add and remove group members; anyone may leave.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use shared::lambda::HandlerError;
use shared::protocol::ModifyChatParticipantsRequest;
use shared::websocket::route;
use shared::{AppContext, messaging};

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<ModifyChatParticipantsRequest, _, _>(&event, |who, request| async move {
        messaging::modify_participants(&ctx, &who, request.body).await
    })
    .await)
}
