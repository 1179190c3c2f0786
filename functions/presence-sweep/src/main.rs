#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::serve("presence-sweep", presence_sweep::handle).await
}
