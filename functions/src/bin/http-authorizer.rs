#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::serve("http-authorizer", functions::http_authorizer::handle).await
}
