#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::serve("disconnect", functions::disconnect::handle).await
}
