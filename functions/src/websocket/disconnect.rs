//! `$disconnect`: forgets the connection. API Gateway calls it best-effort, so
//! stale connections are also cleared on 410 Gone and by TTL.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
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
        messaging::disconnect(&ctx, &who, connection_id(&event)?).await
    }
    .await;
    if let Err(err) = result {
        log_failure(&event, &err);
    }
    Ok(response(200, String::new()))
}
