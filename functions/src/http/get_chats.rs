//! `GET /chats?cursor=&limit=`: the caller's chats, most recently active
//! first, with last-message previews and unread and mention counts.

use std::sync::Arc;

use domain::{AppContext, history};
use lambda_http::Request;
use transport::http::{HttpResponse, query_number, query_parameter, respond};
use transport::lambda::HandlerError;

pub async fn handle(ctx: Arc<AppContext>, request: Request) -> Result<HttpResponse, HandlerError> {
    Ok(respond(request, 200, |user_id, request| async move {
        let limit = query_number(&request, "limit")?;
        history::chats_page(&ctx, &user_id, query_parameter(&request, "cursor"), limit).await
    })
    .await)
}
