#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::serve("set-privacy", functions::set_privacy::handle).await
}
