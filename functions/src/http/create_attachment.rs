//! `POST /chats/{chatId}/attachments`: a presigned S3 upload that accepts
//! only the declared size, type and SHA-256, for members of the chat.

use std::sync::Arc;

use domain::protocol::CreateAttachmentRequest;
use domain::{AppContext, media};
use lambda_http::Request;
use transport::http::{HttpResponse, json_body, path_parameter, respond};
use transport::lambda::HandlerError;

pub async fn handle(ctx: Arc<AppContext>, request: Request) -> Result<HttpResponse, HandlerError> {
    Ok(respond(request, 201, |user_id, request| async move {
        let chat_id = path_parameter(&request, "chatId")?;
        let body: CreateAttachmentRequest = json_body(&request)?;
        media::create_upload(&ctx, &user_id, &chat_id, body).await
    })
    .await)
}
