//! The one binary every function deploys (its `bootstrap`): Lambda sets
//! `_HANDLER` to the function's `Handler` in the template, and that names the
//! handler in the registry.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let name = std::env::var("_HANDLER").map_err(|_| "_HANDLER is not set: the template's Handler names the function")?;
    let function = functions::registry::find(&name).ok_or_else(|| format!("no function {name:?} in the registry"))?;
    functions::runtime::serve(function).await
}
