//! `GET /chats/{chatId}/attachments/{attachmentId}`: a short-lived presigned
//! download for whoever may see the message that carried the file.

use std::sync::Arc;

use domain::{AppContext, media};
use lambda_http::Request;
use transport::http::{HttpResponse, path_parameter, respond};
use transport::lambda::HandlerError;

pub async fn handle(ctx: Arc<AppContext>, request: Request) -> Result<HttpResponse, HandlerError> {
    Ok(respond(request, 200, |user_id, request| async move {
        let chat_id = path_parameter(&request, "chatId")?;
        let attachment_id = path_parameter(&request, "attachmentId")?;
        media::download(&ctx, &user_id, &chat_id, &attachment_id).await
    })
    .await)
}
