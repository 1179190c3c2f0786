#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::serve("presence-sweep", functions::presence_sweep::handle).await
}
