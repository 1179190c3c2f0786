//! In-memory fakes of the delivery, media and push ports, and an
//! `AppContext` built on them and on the in-memory store: the domain's rules
//! run in unit tests with no stand-in at all. Each fake records what it was
//! asked, so a test checks what a device was sent, which file was deleted,
//! which push went out.

mod store;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use crate::config::Config;
use crate::context::AppContext;
use crate::error::{CallFailure, MediaError, PushError};
use crate::model::Attachment;
use crate::ports::{Delivery, Media, MediaKind, PostOutcome, Presigned, Published, Push, Registered, Secrets};
use crate::secrets::SecretError;
pub use store::MemoryStore;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Live connections: every post is recorded; a connection marked gone
/// answers as API Gateway does for one that closed (410).
#[derive(Default)]
pub struct FakeDelivery {
    posts: Mutex<Vec<(String, String)>>,
    closed: Mutex<Vec<String>>,
    gone: Mutex<BTreeSet<String>>,
}

impl FakeDelivery {
    /// The frames posted to a connection, oldest first, as JSON values.
    pub fn frames_to(&self, connection_id: &str) -> Vec<serde_json::Value> {
        lock(&self.posts)
            .iter()
            .filter(|(to, _)| to == connection_id)
            .map(|(_, payload)| serde_json::from_str(payload).expect("posts are JSON"))
            .collect()
    }

    /// The `type` of each frame posted to a connection, oldest first.
    pub fn kinds_to(&self, connection_id: &str) -> Vec<String> {
        self.frames_to(connection_id).iter().map(|f| f["type"].as_str().unwrap_or_default().to_owned()).collect()
    }

    pub fn closed(&self) -> Vec<String> {
        lock(&self.closed).clone()
    }

    /// From now on the connection is gone (a post answers `Gone`).
    pub fn hang_up(&self, connection_id: &str) {
        lock(&self.gone).insert(connection_id.to_owned());
    }

    pub fn forget_posts(&self) {
        lock(&self.posts).clear();
    }
}

#[async_trait]
impl Delivery for FakeDelivery {
    async fn post(&self, connection_id: &str, payload: &str) -> PostOutcome {
        if lock(&self.gone).contains(connection_id) {
            return PostOutcome::Gone;
        }
        lock(&self.posts).push((connection_id.to_owned(), payload.to_owned()));
        PostOutcome::Delivered
    }

    async fn close(&self, connection_id: &str) {
        lock(&self.closed).push(connection_id.to_owned());
        lock(&self.gone).insert(connection_id.to_owned());
    }
}

/// The media bucket: objects by key with their sizes. Presigned URLs are
/// opaque strings naming the key, method and lifetime.
#[derive(Default)]
pub struct FakeMedia {
    objects: Mutex<BTreeMap<String, u64>>,
}

impl FakeMedia {
    /// A client uploaded `size` bytes for the attachment.
    pub fn upload(&self, kind: MediaKind, attachment_id: &str, size: u64) {
        lock(&self.objects).insert(kind.key(attachment_id), size);
    }

    pub fn holds(&self, kind: MediaKind, attachment_id: &str) -> bool {
        lock(&self.objects).contains_key(&kind.key(attachment_id))
    }
}

fn presigned(method: &str, key: &str, ttl: Duration) -> Presigned {
    Presigned { url: format!("https://media.test/{key}?expires-in={}", ttl.as_secs()), method: method.into(), headers: BTreeMap::new() }
}

#[async_trait]
impl Media for FakeMedia {
    async fn presign_upload(&self, attachment: &Attachment, ttl: Duration) -> Result<Presigned, MediaError> {
        Ok(presigned("PUT", &MediaKind::of(attachment).key(&attachment.attachment_id), ttl))
    }

    async fn presign_download(
        &self,
        attachment: &Attachment,
        _content_disposition: String,
        ttl: Duration,
    ) -> Result<Presigned, MediaError> {
        Ok(presigned("GET", &MediaKind::of(attachment).key(&attachment.attachment_id), ttl))
    }

    async fn presign_get(
        &self,
        kind: MediaKind,
        attachment_id: &str,
        _content_type: &str,
        _content_disposition: String,
        ttl: Duration,
    ) -> Result<Presigned, MediaError> {
        Ok(presigned("GET", &kind.key(attachment_id), ttl))
    }

    async fn uploaded_size(&self, kind: MediaKind, attachment_id: &str) -> Result<Option<u64>, MediaError> {
        Ok(lock(&self.objects).get(&kind.key(attachment_id)).copied())
    }

    async fn delete(&self, keys: &[String]) -> Result<(), MediaError> {
        let mut objects = lock(&self.objects);
        for key in keys {
            objects.remove(key);
        }
        Ok(())
    }
}

struct Endpoint {
    application: String,
    token: String,
    owner: String,
    enabled: bool,
}

/// SNS mobile push: endpoints per (application, token), as SNS keeps them,
/// and every publish.
#[derive(Default)]
pub struct FakePush {
    endpoints: Mutex<BTreeMap<String, Endpoint>>,
    published: Mutex<Vec<(String, String)>>,
}

impl FakePush {
    /// The payloads published to an endpoint, oldest first.
    pub fn published_to(&self, endpoint_arn: &str) -> Vec<String> {
        lock(&self.published).iter().filter(|(to, _)| to == endpoint_arn).map(|(_, p)| p.clone()).collect()
    }

    pub fn published(&self) -> usize {
        lock(&self.published).len()
    }

    /// The platform disabled the endpoint (the app was uninstalled).
    pub fn disable(&self, endpoint_arn: &str) {
        if let Some(e) = lock(&self.endpoints).get_mut(endpoint_arn) {
            e.enabled = false;
        }
    }

    pub fn exists(&self, endpoint_arn: &str) -> bool {
        lock(&self.endpoints).contains_key(endpoint_arn)
    }
}

#[async_trait]
impl Push for FakePush {
    async fn endpoint_for(&self, application: &str, token: &str, owner: &str) -> Result<Registered, PushError> {
        let mut endpoints = lock(&self.endpoints);
        let existing = endpoints.iter_mut().find(|(_, e)| e.application == application && e.token == token);
        if let Some((arn, endpoint)) = existing {
            let taken_from = Some(std::mem::replace(&mut endpoint.owner, owner.to_owned())).filter(|previous| previous != owner);
            endpoint.enabled = true;
            return Ok(Registered { endpoint_arn: arn.clone(), taken_from });
        }
        let arn = format!("{application}/endpoint/{}", endpoints.len() + 1);
        endpoints
            .insert(arn.clone(), Endpoint { application: application.into(), token: token.into(), owner: owner.into(), enabled: true });
        Ok(Registered { endpoint_arn: arn, taken_from: None })
    }

    async fn delete_endpoint_of(&self, endpoint_arn: &str, owner: &str) -> Result<bool, PushError> {
        let mut endpoints = lock(&self.endpoints);
        if endpoints.get(endpoint_arn).is_none_or(|e| e.owner != owner) {
            return Ok(false);
        }
        endpoints.remove(endpoint_arn);
        Ok(true)
    }

    async fn publish(&self, endpoint_arn: &str, payload: String) -> Result<Published, PushError> {
        match lock(&self.endpoints).get(endpoint_arn) {
            None => Err(PushError::Call(CallFailure {
                code: Some("NotFound".into()),
                message: format!("endpoint {endpoint_arn} does not exist"),
                retryable: false,
            })),
            Some(e) if !e.enabled => Ok(Published::EndpointDisabled),
            Some(_) => {
                lock(&self.published).push((endpoint_arn.to_owned(), payload));
                Ok(Published::Sent)
            }
        }
    }
}

/// The rules' tests read no secret (only the authorizers do).
struct NoSecrets;

#[async_trait]
impl Secrets for NoSecrets {
    async fn secret_string(&self, _secret_id: &str) -> Result<String, SecretError> {
        Err(SecretError::NotConfigured)
    }
}

/// An `AppContext` on fakes, with handles on each to look at afterwards.
pub struct Fakes {
    pub ctx: Arc<AppContext>,
    pub store: Arc<MemoryStore>,
    pub delivery: Arc<FakeDelivery>,
    pub media: Arc<FakeMedia>,
    pub push: Arc<FakePush>,
}

/// The configuration the deployed stack has by default (every limit at its
/// default), with `overrides` (`(variable, value)`) applied.
pub fn config(overrides: &[(&str, &str)]) -> Config {
    use crate::config::*;
    let mut vars: BTreeMap<&str, String> = [
        (USERS_TABLE, "users"),
        (CONNECTIONS_TABLE, "connections"),
        (CHATS_TABLE, "chats"),
        (MESSAGES_TABLE, "messages"),
        (INBOX_TABLE, "inbox"),
        (CLIENT_MESSAGE_IDS_TABLE, "client-message-ids"),
        (MEMBERSHIPS_TABLE, "memberships"),
        (PRESENCE_SUBSCRIPTIONS_TABLE, "presence"),
        (ATTACHMENTS_TABLE, "attachments"),
        (RATE_LIMITS_TABLE, "rate-limits"),
        (CONTACTS_TABLE, "contacts"),
        (ONE_TIME_KEYS_TABLE, "one-time-keys"),
        (MEDIA_BUCKET, "media"),
        (CONNECTIONS_API_URL, "https://ws.test/dev"),
        (SNS_ARN_PREFIX, "arn:aws:sns:us-east-1:000000000000"),
        (GCM_PLATFORM_APPLICATION, "chat-gcm"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_owned()))
    .collect();
    for (k, v) in overrides {
        vars.insert(k, (*v).to_owned());
    }
    Config::from_lookup(|name| vars.get(name).cloned()).expect("the test configuration is valid")
}

impl Fakes {
    pub fn new() -> Self {
        Self::with_config(config(&[]))
    }

    pub fn with_config(config: Config) -> Self {
        let store = Arc::new(MemoryStore::new());
        let delivery = Arc::new(FakeDelivery::default());
        let media = Arc::new(FakeMedia::default());
        let push = Arc::new(FakePush::default());
        let ctx = Arc::new(AppContext::new(config, store.clone(), delivery.clone(), media.clone(), push.clone(), Arc::new(NoSecrets)));
        Self { ctx, store, delivery, media, push }
    }
}
