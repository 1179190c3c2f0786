#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::serve("cleanup", functions::cleanup::handle).await
}
