#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::serve("modify-chat-participants", functions::modify_chat_participants::handle).await
}
