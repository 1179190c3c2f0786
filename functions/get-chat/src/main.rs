#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::serve_http("get-chat", get_chat::handle).await
}
