//! `modifyChatParticipants` route: admins add and remove group members; anyone may leave.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use domain::protocol::ModifyChatParticipantsRequest;
use domain::{AppContext, messaging};
use transport::lambda::HandlerError;
use transport::websocket::route;

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<ModifyChatParticipantsRequest, _, _>(&event, |who, request| async move {
        messaging::modify_participants(&ctx, &who, request.body).await
    })
    .await)
}
