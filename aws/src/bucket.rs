//! The media bucket (S3): the one module that calls S3. Objects are keyed by
//! their kind and attachment id alone (`media/<id>` for chat attachments,
//! `avatars/<id>` for profile pictures), naming neither chat nor user: a
//! function that handles one kind is granted that prefix only.

use async_trait::async_trait;

use domain::ports::{Media, MediaKind, Presigned};
use std::time::Duration;

use aws_sdk_s3::presigning::{PresignedRequest, PresigningConfig};
use aws_sdk_s3::types::{Delete, ObjectIdentifier};

use domain::error::MediaError;
use domain::model::Attachment;

/// A presigned request as the media port gives it out.
fn presigned(request: PresignedRequest) -> Presigned {
    Presigned {
        url: request.uri().to_owned(),
        method: request.method().to_owned(),
        headers: request.headers().map(|(k, v)| (k.to_owned(), v.to_owned())).collect(),
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
        Ok(presigned(request))
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
        Ok(presigned(request))
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
