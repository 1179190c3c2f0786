#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::serve("unregister-device", functions::unregister_device::handle).await
}
