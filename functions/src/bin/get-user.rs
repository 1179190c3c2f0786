#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::serve_http("get-user", functions::get_user::handle).await
}
