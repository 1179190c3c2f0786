#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::serve("list-blocked", functions::list_blocked::handle).await
}
