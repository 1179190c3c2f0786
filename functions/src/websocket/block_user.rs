//! `blockUser` route: the caller blocks or unblocks a user; answers with their block list.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use shared::lambda::HandlerError;
use shared::protocol::BlockUserRequest;
use shared::websocket::route;
use shared::{AppContext, messaging};

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<BlockUserRequest, _, _>(&event, |who, request| async move { messaging::block_user(&ctx, &who, request.body).await }).await)
}
