#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::serve("heartbeat", functions::heartbeat::handle).await
}
