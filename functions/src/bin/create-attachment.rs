#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::serve_http("create-attachment", functions::create_attachment::handle).await
}
