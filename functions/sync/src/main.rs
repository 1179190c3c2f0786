#![recursion_limit = "256"] // the sync handler's nested futures are deep
#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::serve("sync", sync::handle).await
}
