#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::serve("subscribe-presence", functions::subscribe_presence::handle).await
}
