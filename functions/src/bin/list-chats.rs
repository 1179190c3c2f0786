#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::serve("list-chats", functions::list_chats::handle).await
}
