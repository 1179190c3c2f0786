//! `GET /chats/{chatId}/messages?before=&after=&limit=`: history, paged by seq
//! in either direction, limited to what the caller may see.

use std::sync::Arc;

use domain::history::HistoryQuery;
use domain::{AppContext, history};
use lambda_http::Request;
use transport::http::{HttpResponse, path_parameter, query_number, respond};
use transport::lambda::HandlerError;

pub async fn handle(ctx: Arc<AppContext>, request: Request) -> Result<HttpResponse, HandlerError> {
    Ok(respond(request, 200, |user_id, request| async move {
        let chat_id = path_parameter(&request, "chatId")?;
        let query = HistoryQuery {
            before: query_number(&request, "before")?,
            after: query_number(&request, "after")?,
            limit: query_number(&request, "limit")?,
        };
        history::messages_page(&ctx, &user_id, &chat_id, query).await
    })
    .await)
}
