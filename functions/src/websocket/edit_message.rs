//! `editMessage` route: the sender replaces a message's text (within the edit window).

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use domain::protocol::EditMessageRequest;
use domain::{AppContext, messaging};
use transport::lambda::HandlerError;
use transport::websocket::route;

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<EditMessageRequest, _, _>(&event, |who, request| async move { messaging::edit_message(&ctx, &who, request.body).await })
        .await)
}
