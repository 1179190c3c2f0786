//! The media port: the bucket files live in (S3 when deployed: `bucket`).
//! Files go to and from clients by presigned URLs; the server only checks,
//! signs and deletes.

use std::time::Duration;

use async_trait::async_trait;

use crate::bucket::{MediaKind, Presigned};
use crate::error::MediaError;
use crate::store::Attachment;

/// The media bucket.
#[async_trait]
pub trait Media: Send + Sync {
    /// A PUT that S3 honours only for the declared size, type and SHA-256
    /// (all three are signed headers).
    async fn presign_upload(&self, attachment: &Attachment, ttl: Duration) -> Result<Presigned, MediaError>;

    /// A GET served with the attachment's type and `content_disposition`.
    async fn presign_download(&self, attachment: &Attachment, content_disposition: String, ttl: Duration) -> Result<Presigned, MediaError>;

    /// A presigned GET of a file, served with this type and disposition.
    async fn presign_get(
        &self,
        kind: MediaKind,
        attachment_id: &str,
        content_type: &str,
        content_disposition: String,
        ttl: Duration,
    ) -> Result<Presigned, MediaError>;

    /// The size of an uploaded object, or `None` when nothing is there yet.
    async fn uploaded_size(&self, kind: MediaKind, attachment_id: &str) -> Result<Option<u64>, MediaError>;

    /// Deletes up to [`MAX_DELETE_KEYS`] objects in one request (a key with
    /// no object is no error).
    async fn delete(&self, keys: &[String]) -> Result<(), MediaError>;
}
