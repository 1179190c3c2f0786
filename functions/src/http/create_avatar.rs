//! `POST /users/me/avatar`: a presigned S3 upload for the caller's avatar
//! (an image of at most 5 MB), set afterwards with `updateProfile {avatar}`.

use std::sync::Arc;

use domain::protocol::CreateAvatarRequest;
use domain::{AppContext, media};
use lambda_http::Request;
use transport::http::{HttpResponse, json_body, respond};
use transport::lambda::HandlerError;

pub async fn handle(ctx: Arc<AppContext>, request: Request) -> Result<HttpResponse, HandlerError> {
    Ok(respond(request, 201, |user_id, request| async move {
        let body: CreateAvatarRequest = json_body(&request)?;
        media::create_avatar_upload(&ctx, &user_id, body).await
    })
    .await)
}
