//! The media bucket (S3): the one module that calls S3. Objects are keyed by
//! their kind and attachment id alone (`media/<id>` for chat attachments,
//! `avatars/<id>` for profile pictures), naming neither chat nor user: a
//! function that handles one kind is granted that prefix only.

use async_trait::async_trait;

use crate::ports::Media;
use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_s3::presigning::{PresignedRequest, PresigningConfig};
use aws_sdk_s3::types::{Delete, ObjectIdentifier};

use crate::error::MediaError;
use crate::store::{AVATAR_SCOPE, Attachment};

/// S3's limit on keys in one DeleteObjects request.
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

impl From<PresignedRequest> for Presigned {
    fn from(request: PresignedRequest) -> Self {
        Presigned {
            url: request.uri().to_owned(),
            method: request.method().to_owned(),
            headers: request.headers().map(|(k, v)| (k.to_owned(), v.to_owned())).collect(),
        }
    }
}

#[derive(Clone)]
pub struct MediaBucket {
    client: aws_sdk_s3::Client,
    name: String,
}

fn presigning(ttl: Duration) -> Result<PresigningConfig, MediaError> {
    PresigningConfig::expires_in(ttl).map_err(|e| MediaError::Build(e.to_string()))
}

impl MediaBucket {
    pub fn new(client: aws_sdk_s3::Client, name: String) -> Self {
        Self { client, name }
    }
}

#[async_trait]
impl Media for MediaBucket {
    async fn presign_upload(&self, attachment: &Attachment, ttl: Duration) -> Result<Presigned, MediaError> {
        let request = self
            .client
            .put_object()
            .bucket(&self.name)
            .key(MediaKind::of(attachment).key(&attachment.attachment_id))
            .content_type(&attachment.content_type)
            .content_length(attachment.size as i64)
            .checksum_sha256(&attachment.sha256)
            .presigned(presigning(ttl)?)
            .await?;
        Ok(request.into())
    }

    async fn presign_download(&self, attachment: &Attachment, content_disposition: String, ttl: Duration) -> Result<Presigned, MediaError> {
        self.presign_get(MediaKind::of(attachment), &attachment.attachment_id, &attachment.content_type, content_disposition, ttl).await
    }

    async fn presign_get(
        &self,
        kind: MediaKind,
        attachment_id: &str,
        content_type: &str,
        content_disposition: String,
        ttl: Duration,
    ) -> Result<Presigned, MediaError> {
        let request = self
            .client
            .get_object()
            .bucket(&self.name)
            .key(kind.key(attachment_id))
            .response_content_type(content_type)
            .response_content_disposition(content_disposition)
            .presigned(presigning(ttl)?)
            .await?;
        Ok(request.into())
    }

    async fn uploaded_size(&self, kind: MediaKind, attachment_id: &str) -> Result<Option<u64>, MediaError> {
        match self.client.head_object().bucket(&self.name).key(kind.key(attachment_id)).send().await {
            Ok(head) => Ok(head.content_length.map(|l| l.max(0) as u64)),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
            // S3 answers a missing key with 403 to callers that may not list the
            // bucket (no function may): not uploaded, as far as we can tell.
            Err(err) if err.raw_response().is_some_and(|r| r.status().as_u16() == 403) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    async fn delete(&self, keys: &[String]) -> Result<(), MediaError> {
        let objects = keys
            .iter()
            .map(|key| ObjectIdentifier::builder().key(key).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| MediaError::Build(e.to_string()))?;
        let delete = Delete::builder().set_objects(Some(objects)).quiet(true).build().map_err(|e| MediaError::Build(e.to_string()))?;
        self.client.delete_objects().bucket(&self.name).delete(delete).send().await?;
        Ok(())
    }
}
