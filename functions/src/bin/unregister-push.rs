#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::serve("unregister-push", functions::unregister_push::handle).await
}
