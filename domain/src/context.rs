//! What a function holds for its whole life, outside the handler: the
//! configuration and an adapter for each port. The deployed stack builds it
//! on AWS (`functions::wiring`); the unit tests on in-memory fakes.

use std::sync::Arc;

use crate::config::Config;
use crate::ports::{Delivery, Media, Push, Secrets, Store};

pub struct AppContext {
    pub config: Config,
    /// The tables (DynamoDB when deployed).
    pub store: Arc<dyn Store>,
    /// Posting to and closing connections (the API Gateway Management API).
    pub connections: Arc<dyn Delivery>,
    /// Mobile push (SNS).
    pub notifier: Arc<dyn Push>,
    /// Media bucket (S3): presigning, upload checks, cleanup.
    pub media: Arc<dyn Media>,
    /// Secrets Manager, for the token signing key (see `secrets`).
    pub secrets: Arc<dyn Secrets>,
    /// The signing key once read.
    pub(crate) signing_key: tokio::sync::OnceCell<String>,
}

impl AppContext {
    pub fn new(
        config: Config,
        store: Arc<dyn Store>,
        delivery: Arc<dyn Delivery>,
        media: Arc<dyn Media>,
        push: Arc<dyn Push>,
        secrets: Arc<dyn Secrets>,
    ) -> Self {
        Self { config, store, connections: delivery, notifier: push, media, secrets, signing_key: tokio::sync::OnceCell::new() }
    }
}
