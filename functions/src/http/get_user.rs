//! `GET /users/{userId}`: a user's basic profile (presence, chats in common),
//! for the caller and the people they share a chat with.

use std::sync::Arc;

use domain::{AppContext, history};
use lambda_http::Request;
use transport::http::{HttpResponse, path_parameter, respond};
use transport::lambda::HandlerError;

pub async fn handle(ctx: Arc<AppContext>, request: Request) -> Result<HttpResponse, HandlerError> {
    Ok(respond(request, 200, |user_id, request| async move {
        let profile_of = path_parameter(&request, "userId")?;
        history::user_profile(&ctx, &user_id, &profile_of).await
    })
    .await)
}
