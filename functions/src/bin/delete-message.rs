#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::serve("delete-message", functions::delete_message::handle).await
}
