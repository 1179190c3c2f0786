//! `GET /users/{userId}/avatar`: a presigned download of a user's avatar, for
//! whoever may see their profile.

use std::sync::Arc;

use lambda_http::Request;
use shared::http::{HttpResponse, path_parameter, respond};
use shared::lambda::HandlerError;
use shared::{AppContext, history};

pub async fn handle(ctx: Arc<AppContext>, request: Request) -> Result<HttpResponse, HandlerError> {
    Ok(respond(request, 200, |user_id, request| async move {
        let of = path_parameter(&request, "userId")?;
        history::avatar_download(&ctx, &user_id, &of).await
    })
    .await)
}
