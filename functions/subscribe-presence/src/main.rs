#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::serve("subscribe-presence", subscribe_presence::handle).await
}
