//! The AWS adapters: one module per service the functions call — S3
//! (`bucket`, the media port), SNS (`notifier`, the push port), the API
//! Gateway Management API (`fanout`, the delivery port), Secrets Manager
//! (`secrets`) — and the interceptor that counts every call (`calls`).

pub mod bucket;
pub mod calls;
pub mod fanout;
pub mod notifier;
pub mod secrets;

pub use bucket::MediaBucket;
pub use fanout::Connections;
pub use notifier::Notifier;
pub use secrets::SecretsManager;
