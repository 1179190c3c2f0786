#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::serve("accept-chat", functions::accept_chat::handle).await
}
