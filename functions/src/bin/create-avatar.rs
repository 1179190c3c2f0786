#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::serve_http("create-avatar", functions::create_avatar::handle).await
}
