//! What a Lambda builds once per container, outside the handler: configuration
//! and AWS clients (which read `AWS_ENDPOINT_URL*` and credentials natively).

use std::sync::Arc;

use crate::calls::CountCalls;
use crate::config::Config;
use crate::store::Store;

pub struct AppContext {
    pub config: Config,
    pub store: Store,
    /// API Gateway Management API, for `PostToConnection`.
    pub connections: aws_sdk_apigatewaymanagement::Client,
    /// SNS mobile push.
    pub sns: aws_sdk_sns::Client,
    /// Media bucket: presigning, upload checks, cleanup.
    pub s3: aws_sdk_s3::Client,
    /// Secrets Manager, for the token signing key (see `secrets`).
    pub secrets: aws_sdk_secretsmanager::Client,
    /// The signing key once read.
    pub(crate) signing_key: tokio::sync::OnceCell<String>,
}

impl AppContext {
    pub async fn from_env() -> Result<Arc<Self>, crate::error::ConfigError> {
        let config = Config::from_env()?;
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Ok(Arc::new(Self::new(config, &sdk)))
    }

    pub fn new(config: Config, sdk: &aws_config::SdkConfig) -> Self {
        let dynamo = aws_sdk_dynamodb::Client::from_conf(aws_sdk_dynamodb::config::Builder::from(sdk).interceptor(CountCalls).build());
        let connections = aws_sdk_apigatewaymanagement::Client::from_conf(
            aws_sdk_apigatewaymanagement::config::Builder::from(sdk)
                .endpoint_url(config.connections_api_url.clone())
                .interceptor(CountCalls)
                .build(),
        );
        let sns = aws_sdk_sns::Client::from_conf(aws_sdk_sns::config::Builder::from(sdk).interceptor(CountCalls).build());
        let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(sdk).interceptor(CountCalls).build());
        let secrets =
            aws_sdk_secretsmanager::Client::from_conf(aws_sdk_secretsmanager::config::Builder::from(sdk).interceptor(CountCalls).build());
        let store = Store::new(dynamo, config.tables.clone());
        Self { config, store, connections, sns, s3, secrets, signing_key: tokio::sync::OnceCell::new() }
    }
}
