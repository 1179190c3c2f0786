//! `updateProfile` route: the caller's display name and "about" (none given reads them).

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use domain::protocol::UpdateProfileRequest;
use domain::{AppContext, messaging};
use transport::lambda::HandlerError;
use transport::websocket::route;

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<UpdateProfileRequest, _, _>(&event, |who, request| async move { messaging::update_profile(&ctx, &who, request.body).await })
        .await)
}
