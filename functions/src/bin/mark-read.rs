#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::serve("mark-read", functions::mark_read::handle).await
}
