//! `blockUser` route: the caller blocks or unblocks a user; answers with their block list.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use domain::protocol::BlockUserRequest;
use domain::{AppContext, messaging};
use transport::lambda::HandlerError;
use transport::websocket::route;

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<BlockUserRequest, _, _>(&event, |who, request| async move { messaging::block_user(&ctx, &who, request.body).await }).await)
}
