#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::serve("update-chat", functions::update_chat::handle).await
}
