#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::serve("create-chat", functions::create_chat::handle).await
}
