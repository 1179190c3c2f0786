//! What a Lambda builds once per container, outside the handler: configuration
//! and AWS clients (which read `AWS_ENDPOINT_URL*` and credentials natively).

use std::sync::Arc;

use crate::bucket::MediaBucket;
use crate::calls::CountCalls;
use crate::config::Config;
use crate::fanout::Connections;
use crate::notifier::Notifier;
use crate::ports::{Delivery, Media, Push, Store};
use crate::store::DynamoStore;

pub struct AppContext {
    pub config: Config,
    /// The tables (DynamoDB when deployed).
    pub store: Arc<dyn Store>,
    /// API Gateway Management API: posting to and closing connections.
    pub connections: Arc<dyn Delivery>,
    /// Mobile push (SNS).
    pub notifier: Arc<dyn Push>,
    /// Media bucket (S3): presigning, upload checks, cleanup.
    pub media: Arc<dyn Media>,
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
        let connections = Arc::new(Connections::new(aws_sdk_apigatewaymanagement::Client::from_conf(
            aws_sdk_apigatewaymanagement::config::Builder::from(sdk)
                .endpoint_url(config.connections_api_url.clone())
                .interceptor(CountCalls)
                .build(),
        )));
        let notifier = Arc::new(Notifier::new(aws_sdk_sns::Client::from_conf(
            aws_sdk_sns::config::Builder::from(sdk).interceptor(CountCalls).build(),
        )));
        let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(sdk).interceptor(CountCalls).build());
        let media = Arc::new(MediaBucket::new(s3, config.media_bucket.clone()));
        let secrets =
            aws_sdk_secretsmanager::Client::from_conf(aws_sdk_secretsmanager::config::Builder::from(sdk).interceptor(CountCalls).build());
        let store = Arc::new(DynamoStore::new(dynamo, config.tables.clone()));
        Self { config, store, connections, notifier, media, secrets, signing_key: tokio::sync::OnceCell::new() }
    }

    /// A context on other adapters than AWS's (the fakes of the unit tests).
    /// Its Secrets Manager client is never called: only the authorizers read
    /// the signing key, and their tests give it.
    pub fn on(config: Config, store: Arc<dyn Store>, delivery: Arc<dyn Delivery>, media: Arc<dyn Media>, push: Arc<dyn Push>) -> Self {
        let secrets = aws_sdk_secretsmanager::Client::from_conf(
            aws_sdk_secretsmanager::config::Builder::new()
                .behavior_version(aws_config::BehaviorVersion::latest())
                .region(aws_config::Region::new("us-east-1"))
                .build(),
        );
        Self { config, store, connections: delivery, notifier: push, media, secrets, signing_key: tokio::sync::OnceCell::new() }
    }
}
