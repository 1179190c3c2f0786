//! `GET /users/{userId}/avatar`: a presigned download of a user's avatar, for
//! whoever may see their profile.

use std::sync::Arc;

use domain::{AppContext, history};
use lambda_http::Request;
use transport::http::{HttpResponse, path_parameter, respond};
use transport::lambda::HandlerError;

pub async fn handle(ctx: Arc<AppContext>, request: Request) -> Result<HttpResponse, HandlerError> {
    Ok(respond(request, 200, |user_id, request| async move {
        let of = path_parameter(&request, "userId")?;
        history::avatar_download(&ctx, &user_id, &of).await
    })
    .await)
}
