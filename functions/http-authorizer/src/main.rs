#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::serve("http-authorizer", http_authorizer::handle).await
}
