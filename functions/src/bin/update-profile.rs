#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::serve("update-profile", functions::update_profile::handle).await
}
