//! `heartbeat` route: keeps the caller online (and API Gateway's idle timeout away).

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use domain::AppContext;
use domain::messaging::presence;
use domain::protocol::HeartbeatRequest;
use transport::lambda::HandlerError;
use transport::websocket::route;

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<HeartbeatRequest, _, _>(&event, |who, request| async move { presence::heartbeat(&ctx, &who, &request.connection_id).await })
        .await)
}
