//! `GET /chats/{chatId}`: a chat's details as the caller sees them.

use std::sync::Arc;

use lambda_http::Request;
use shared::http::{HttpResponse, path_parameter, respond};
use shared::lambda::HandlerError;
use shared::{AppContext, history};

pub async fn handle(ctx: Arc<AppContext>, request: Request) -> Result<HttpResponse, HandlerError> {
    Ok(respond(request, 200, |user_id, request| async move {
        let chat_id = path_parameter(&request, "chatId")?;
        history::chat_details(&ctx, &user_id, &chat_id).await
    })
    .await)
}
