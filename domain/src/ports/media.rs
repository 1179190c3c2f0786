//! The media port: the bucket files live in (S3 when deployed: `bucket`).
//! Files go to and from clients by presigned URLs; the server only checks,
//! signs and deletes.

use std::time::Duration;

use async_trait::async_trait;

use std::collections::BTreeMap;

use crate::error::MediaError;
use crate::model::{AVATAR_SCOPE, Attachment};

/// The most keys one `delete` takes (S3's limit on keys in one DeleteObjects request).
pub const MAX_DELETE_KEYS: usize = 1000;

/// What an object holds, which decides its key's prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaKind {
    /// A file sent (or to be sent) in a chat.
    Attachment,
    /// A profile picture.
    Avatar,
}

impl MediaKind {
    pub const ALL: [MediaKind; 2] = [MediaKind::Attachment, MediaKind::Avatar];

    /// The kind of an uploaded file, as its record scopes it.
    pub fn of(attachment: &Attachment) -> Self {
        if attachment.chat_id == AVATAR_SCOPE { MediaKind::Avatar } else { MediaKind::Attachment }
    }

    /// The object key of a file's bytes.
    pub fn key(self, attachment_id: &str) -> String {
        match self {
            MediaKind::Attachment => format!("media/{attachment_id}"),
            MediaKind::Avatar => format!("avatars/{attachment_id}"),
        }
    }
}

/// A presigned request: the URL, its method and the headers it must carry exactly.
pub struct Presigned {
    pub url: String,
    pub method: String,
    pub headers: BTreeMap<String, String>,
}

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
