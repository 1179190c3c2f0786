#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::serve("mute-chat", functions::mute_chat::handle).await
}
