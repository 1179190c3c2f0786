//! `$connect`: registers the authorized device's connection. A refusal's
//! status code is what the client's WebSocket handshake receives.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use domain::protocol::ServerFrame;
use domain::{AppContext, messaging};
use transport::lambda::HandlerError;
use transport::websocket::{connection_id, device_registered, identity, log_failure, response};

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    let result = async {
        let who = identity(&event)?;
        // A device over the limit holds a connection but no registration.
        if !device_registered(&event) {
            return Ok(());
        }
        messaging::connect(&ctx, &who, connection_id(&event)?).await
    }
    .await;
    Ok(match result {
        Ok(()) => response(200, String::new()),
        Err(err) => {
            log_failure(&event, &err);
            response(err.http_status(), ServerFrame::error(&err).to_json())
        }
    })
}
