#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::serve_http("get-chat", functions::get_chat::handle).await
}
