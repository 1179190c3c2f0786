#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::serve("authorizer", functions::authorizer::handle).await
}
