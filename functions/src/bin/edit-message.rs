#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::serve("edit-message", functions::edit_message::handle).await
}
