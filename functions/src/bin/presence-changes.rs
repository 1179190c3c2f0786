#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::serve("presence-changes", functions::presence_changes::handle).await
}
