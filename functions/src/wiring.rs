//! The context every function builds once per execution environment: its
//! configuration, and the AWS adapter of each domain port, on SDK clients
//! that read `AWS_ENDPOINT_URL*` and credentials natively and count every
//! call they make.

use std::sync::Arc;

use aws_adapters::calls::CountCalls;
use aws_adapters::{Connections, MediaBucket, Notifier, SecretsManager};
use domain::AppContext;
use domain::config::Config;
use domain::error::ConfigError;
use store::DynamoStore;

pub async fn from_env() -> Result<Arc<AppContext>, ConfigError> {
    let config = Config::from_env()?;
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    Ok(Arc::new(on_aws(config, &sdk)))
}

pub fn on_aws(config: Config, sdk: &aws_config::SdkConfig) -> AppContext {
    let dynamo = aws_sdk_dynamodb::Client::from_conf(aws_sdk_dynamodb::config::Builder::from(sdk).interceptor(CountCalls).build());
    let connections = Connections::new(aws_sdk_apigatewaymanagement::Client::from_conf(
        aws_sdk_apigatewaymanagement::config::Builder::from(sdk)
            .endpoint_url(config.connections_api_url.clone())
            .interceptor(CountCalls)
            .build(),
    ));
    let notifier = Notifier::new(aws_sdk_sns::Client::from_conf(aws_sdk_sns::config::Builder::from(sdk).interceptor(CountCalls).build()));
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(sdk).interceptor(CountCalls).build());
    let media = MediaBucket::new(s3, config.media_bucket.clone());
    let secrets = SecretsManager::new(aws_sdk_secretsmanager::Client::from_conf(
        aws_sdk_secretsmanager::config::Builder::from(sdk).interceptor(CountCalls).build(),
    ));
    let store = DynamoStore::new(dynamo, config.tables.clone());
    AppContext::new(config, Arc::new(store), Arc::new(connections), Arc::new(media), Arc::new(notifier), Arc::new(secrets))
}
