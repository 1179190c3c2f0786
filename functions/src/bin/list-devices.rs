#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::serve("list-devices", functions::list_devices::handle).await
}
