#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::serve_http("get-messages", functions::get_messages::handle).await
}
