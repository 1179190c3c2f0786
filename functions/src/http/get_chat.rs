//! `GET /chats/{chatId}`: a chat's details as the caller sees them.

use std::sync::Arc;

use domain::{AppContext, history};
use lambda_http::Request;
use transport::http::{HttpResponse, path_parameter, respond};
use transport::lambda::HandlerError;

pub async fn handle(ctx: Arc<AppContext>, request: Request) -> Result<HttpResponse, HandlerError> {
    Ok(respond(request, 200, |user_id, request| async move {
        let chat_id = path_parameter(&request, "chatId")?;
        history::chat_details(&ctx, &user_id, &chat_id).await
    })
    .await)
}
