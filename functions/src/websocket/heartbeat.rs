//! `heartbeat` route: keeps the caller online (and API Gateway's idle timeout away).

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use shared::AppContext;
use shared::lambda::HandlerError;
use shared::messaging::presence;
use shared::protocol::HeartbeatRequest;
use shared::websocket::route;

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<HeartbeatRequest, _, _>(&event, |who, request| async move { presence::heartbeat(&ctx, &who, &request.connection_id).await })
        .await)
}
