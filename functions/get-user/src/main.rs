#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::serve_http("get-user", get_user::handle).await
}
