//! Media: attachments live in S3 and their bytes never pass through a Lambda.
//! A member asks for an upload URL that S3 will honour only for the declared
//! size, type and SHA-256 (all three are signed headers); members download
//! through short-lived presigned GET URLs. Keys name neither chat nor user.

use crate::limits::Limit;
use std::collections::BTreeSet;
use std::time::Duration;

use base64::Engine;

use crate::auth::Identity;
use crate::context::AppContext;
use crate::error::AppError;
use crate::ids::{self, AttachmentId};
use crate::model::{Attachment, Avatar, attachment_expiry_bucket};
use crate::ports::{MAX_DELETE_KEYS, MediaKind};
use crate::protocol::{AttachmentDownload, AttachmentUpload, AttachmentView, CreateAttachmentRequest, CreateAvatarRequest};
use crate::time::now_millis;

/// An upload not sent in any message within this long is deleted by the cleanup.
pub const ABANDONED_UPLOAD_AFTER: Duration = Duration::from_secs(24 * 60 * 60);
pub const MAX_FILE_NAME_BYTES: usize = 255;
/// Attachments one message may carry (each is one write in the send transaction).
pub const MAX_ATTACHMENTS_PER_MESSAGE: usize = 10;

/// The canonical `type/subtype` of a media type, or `None` when it is not one
/// (RFC 9110 grammar; parameters are not accepted: S3 would serve them back).
pub fn canonical_media_type(raw: &str) -> Option<String> {
    let parsed: mime::Mime = raw.parse().ok()?;
    if parsed.params().next().is_some() || parsed.essence_str().len() != raw.len() {
        return None;
    }
    Some(parsed.essence_str().to_ascii_lowercase())
}

/// What an end-to-end encrypted chat's uploads are: opaque bytes under a
/// fixed name. The real name, type, key and digest travel inside the
/// message's envelope (docs/e2ee.md), so the server keeps none of them.
pub const ENCRYPTED_MEDIA_TYPE: &str = "application/octet-stream";
pub const ENCRYPTED_FILE_NAME: &str = "encrypted";

/// Checks an encrypted chat's upload: opaque, named `encrypted`, at most the
/// largest size any media type may have (AES-CTR adds no bytes; the limit of
/// the file's own type is the sending app's to apply, the server cannot see it).
fn validate_encrypted_upload(ctx: &AppContext, request: &CreateAttachmentRequest) -> Result<String, AppError> {
    if request.file_name != ENCRYPTED_FILE_NAME {
        return Err(AppError::invalid(format!(
            "an encrypted chat's upload is named {ENCRYPTED_FILE_NAME:?}: its name travels encrypted in the message"
        )));
    }
    let max = ctx.config.media_limits.0.iter().map(|(_, max)| *max).max().unwrap_or(0);
    if request.size == 0 {
        return Err(AppError::invalid("size must be at least 1 byte"));
    }
    if request.size > max {
        return Err(AppError::TooLarge { what: "an encrypted attachment".into(), max });
    }
    check_sha256(&request.sha256)?;
    Ok(ENCRYPTED_MEDIA_TYPE.to_owned())
}

/// Checks an upload request; returns its canonical content type.
fn validate_upload(ctx: &AppContext, request: &CreateAttachmentRequest) -> Result<String, AppError> {
    if canonical_media_type(&request.content_type).as_deref() == Some(ENCRYPTED_MEDIA_TYPE) {
        return validate_encrypted_upload(ctx, request);
    }
    let name = &request.file_name;
    let plain = name.chars().all(|c| crate::text::allowed_in_name(c) && c != '/' && c != '\\');
    if name.is_empty() || name.len() > MAX_FILE_NAME_BYTES || !plain || name.trim() != name {
        return Err(AppError::invalid(format!(
            "fileName must be 1-{MAX_FILE_NAME_BYTES} bytes without slashes, surrounding spaces, control or bidirectional control characters"
        )));
    }
    let content_type = canonical_media_type(&request.content_type)
        .ok_or_else(|| AppError::invalid(format!("contentType {:?} is not a media type (type/subtype)", request.content_type)))?;
    let max = ctx.config.media_limits.max_bytes(&content_type).ok_or_else(|| {
        AppError::invalid(format!(
            "contentType {:?} is not accepted; allowed: {}",
            request.content_type,
            ctx.config.media_limits.allowed_types()
        ))
    })?;
    if request.size == 0 {
        return Err(AppError::invalid("size must be at least 1 byte"));
    }
    if request.size > max {
        return Err(AppError::TooLarge { what: format!("a {content_type} attachment"), max });
    }
    check_sha256(&request.sha256)?;
    Ok(content_type)
}

fn check_sha256(sha256: &str) -> Result<(), AppError> {
    let digest = base64::engine::general_purpose::STANDARD.decode(sha256).ok();
    if digest.is_none_or(|d| d.len() != 32) {
        return Err(AppError::invalid("sha256 must be the base64 SHA-256 of the file (44 characters)"));
    }
    Ok(())
}

/// `POST /chats/{chatId}/attachments`: records the attachment and presigns its upload.
pub async fn create_upload(
    ctx: &AppContext,
    user_id: &str,
    chat_id: &str,
    request: CreateAttachmentRequest,
) -> Result<AttachmentUpload, AppError> {
    let content_type = validate_upload(ctx, &request)?;
    // The declared size is what the presigned URL lets S3 take.
    ctx.charge(Limit::UploadBytes, user_id, request.size).await?;
    let chat = ctx.store.get_chat_item(chat_id).await?;
    let chat = chat.filter(|c| c.is_member(user_id)).ok_or(AppError::NotMember)?;
    match (chat.encrypted, content_type == ENCRYPTED_MEDIA_TYPE) {
        (true, false) => {
            return Err(AppError::invalid(format!(
                "this chat is end-to-end encrypted: upload the file encrypted, as {ENCRYPTED_MEDIA_TYPE} named {ENCRYPTED_FILE_NAME:?}"
            )));
        }
        (false, true) => {
            return Err(AppError::invalid(format!("{ENCRYPTED_MEDIA_TYPE} uploads are for end-to-end encrypted chats")));
        }
        _ => {}
    }
    record_and_presign(ctx, user_id, chat_id, request.file_name, content_type, request.size, request.sha256).await
}

/// Records an upload (expiring unless something takes it) and presigns its PUT.
async fn record_and_presign(
    ctx: &AppContext,
    user_id: &str,
    scope: &str,
    file_name: String,
    content_type: String,
    size: u64,
    sha256: String,
) -> Result<AttachmentUpload, AppError> {
    let now = now_millis();
    let attachment_id = ids::new_message_id();
    let expires_at = (now + ABANDONED_UPLOAD_AFTER.as_millis() as u64) / 1000;
    let attachment = Attachment {
        expiry_bucket: Some(attachment_expiry_bucket(&attachment_id, expires_at)),
        attachment_id,
        chat_id: scope.to_owned(),
        uploader_id: user_id.to_owned(),
        file_name,
        content_type,
        size,
        sha256,
        created_at: now,
        sent_seq: None,
        sent_seqs: Vec::new(),
        expires_at: Some(expires_at),
        deleted_at: None,
    };
    if !ctx.store.put_attachment(&attachment).await? {
        return Err(AppError::Contention);
    }
    let ttl = ctx.config.upload_url_ttl;
    let upload = ctx.media.presign_upload(&attachment, ttl).await?;
    Ok(AttachmentUpload {
        attachment_id: attachment.attachment_id,
        upload_url: upload.url,
        upload_method: upload.method,
        upload_headers: upload.headers,
        expires_at: now + ttl.as_millis() as u64,
    })
}

pub use crate::model::AVATAR_SCOPE;
/// An avatar is a small picture.
pub const MAX_AVATAR_BYTES: u64 = 5 * 1024 * 1024;
pub const AVATAR_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/webp", "image/gif"];

/// `POST /users/me/avatar`: records an avatar upload and presigns it; the
/// caller then sets it with `updateProfile {avatar}`.
pub async fn create_avatar_upload(ctx: &AppContext, user_id: &str, request: CreateAvatarRequest) -> Result<AttachmentUpload, AppError> {
    let content_type = canonical_media_type(&request.content_type)
        .filter(|t| AVATAR_TYPES.contains(&t.as_str()))
        .ok_or_else(|| AppError::invalid(format!("an avatar is one of {}", AVATAR_TYPES.join(", "))))?;
    if request.size == 0 {
        return Err(AppError::invalid("size must be at least 1 byte"));
    }
    if request.size > MAX_AVATAR_BYTES {
        return Err(AppError::TooLarge { what: "an avatar".into(), max: MAX_AVATAR_BYTES });
    }
    check_sha256(&request.sha256)?;
    ctx.charge(Limit::UploadBytes, user_id, request.size).await?;
    record_and_presign(ctx, user_id, AVATAR_SCOPE, "avatar".into(), content_type, request.size, request.sha256).await
}

/// The caller's own avatar upload, in S3 already, kept from now on (the
/// cleanup deletes uploads nothing took).
pub(crate) async fn take_avatar(ctx: &AppContext, who: &Identity, attachment_id: &str) -> Result<Avatar, AppError> {
    ids::check_id("avatar", attachment_id)?;
    let not_yours = || AppError::invalid(format!("avatar {attachment_id:?} is not one of your avatar uploads"));
    let attachment = ctx
        .store
        .get_attachment(attachment_id)
        .await?
        .filter(|a| a.chat_id == AVATAR_SCOPE && a.uploader_id == who.user_id && a.deleted_at.is_none())
        .ok_or_else(not_yours)?;
    if ctx.media.uploaded_size(MediaKind::Avatar, attachment_id).await? != Some(attachment.size) {
        return Err(AppError::invalid(format!("avatar {attachment_id:?} has not been uploaded yet")));
    }
    ctx.store.keep_attachment(attachment_id).await?;
    Ok(Avatar {
        attachment_id: attachment.attachment_id,
        content_type: attachment.content_type,
        size: attachment.size,
        sha256: attachment.sha256,
    })
}

/// A replaced avatar: its object and record deleted (what fails here, the cleanup finishes).
pub(crate) async fn discard_avatar(ctx: &AppContext, attachment_id: &str) -> Result<(), AppError> {
    ctx.store.discard_attachment(attachment_id, now_millis()).await?;
    if let Err(e) = purge_deleted(ctx, MediaKind::Avatar, &[attachment_id.to_owned()]).await {
        tracing::warn!(error = %e, attachment_id, "replaced avatar left for the cleanup");
    }
    Ok(())
}

/// `GET /chats/{chatId}/attachments/{attachmentId}`: a presigned download for
/// whoever may see the message that carried it (before it is sent: its uploader).
pub async fn download(ctx: &AppContext, user_id: &str, chat_id: &str, attachment_id: &str) -> Result<AttachmentDownload, AppError> {
    let not_found = || AppError::NotFound(format!("no attachment {attachment_id} in this chat"));
    let membership = ctx.store.membership(user_id, chat_id).await?.ok_or(AppError::NotMember)?;
    let attachment =
        ctx.store.get_attachment(attachment_id).await?.filter(|a| a.chat_id == chat_id && a.deleted_at.is_none()).ok_or_else(not_found)?;
    let carried_by = attachment.carried_by();
    if carried_by.is_empty() && attachment.uploader_id != user_id {
        return Err(not_found());
    }
    if !carried_by.is_empty() && !carried_by.iter().any(|seq| membership.sees(*seq)) {
        return Err(AppError::Forbidden("this attachment was sent when you were not a member".into()));
    }
    let ttl = ctx.config.download_url_ttl;
    let download = ctx.media.presign_download(&attachment, content_disposition(&attachment.file_name), ttl).await?;
    Ok(AttachmentDownload { attachment: attachment.view(), url: download.url, expires_at: now_millis() + ttl.as_millis() as u64 })
}

/// `attachment` with the file's name (RFC 6266: an ASCII fallback and the
/// exact UTF-8 name), so a downloaded file keeps its name.
pub fn content_disposition(file_name: &str) -> String {
    let fallback: String =
        file_name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
    let encoded = percent_encoding::utf8_percent_encode(file_name, percent_encoding::NON_ALPHANUMERIC);
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// The attachments a message in `chat_id` refers to, checked for `sendMessage`:
/// each must exist in this chat, be the sender's own upload and be in S3.
pub async fn attachments_for_message(
    ctx: &AppContext,
    who: &Identity,
    chat_id: &str,
    ids: &[AttachmentId],
) -> Result<Vec<Attachment>, AppError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let unique: BTreeSet<&AttachmentId> = ids.iter().collect();
    if unique.len() != ids.len() || ids.len() > MAX_ATTACHMENTS_PER_MESSAGE {
        return Err(AppError::invalid(format!("a message carries 1-{MAX_ATTACHMENTS_PER_MESSAGE} distinct attachments")));
    }
    let found = ctx.store.attachments_by_id(&ids.iter().map(ToString::to_string).collect::<Vec<_>>()).await?;
    let mut ordered = Vec::with_capacity(ids.len());
    for id in ids {
        let attachment = found
            .iter()
            .find(|a| &a.attachment_id == id && a.chat_id == chat_id && a.uploader_id == who.user_id)
            .ok_or_else(|| AppError::invalid(format!("attachment {id:?} is not one of your uploads to this chat")))?;
        ordered.push(attachment.clone());
    }
    let heads = futures::future::join_all(ordered.iter().map(|a| ctx.media.uploaded_size(MediaKind::Attachment, &a.attachment_id))).await;
    for (attachment, head) in ordered.iter().zip(heads) {
        if head? != Some(attachment.size) {
            return Err(AppError::invalid(format!("attachment {:?} has not been uploaded yet", attachment.attachment_id)));
        }
    }
    Ok(ordered)
}

/// Deletes uploads no message took within [`ABANDONED_UPLOAD_AFTER`]: their S3
/// objects and then their records. The expiry index holds ids only, so each
/// id's key of either kind is deleted (a key with no object costs nothing).
pub async fn delete_abandoned(ctx: &AppContext, attachment_ids: &[String]) -> Result<usize, AppError> {
    let mut deleted = 0;
    for chunk in attachment_ids.chunks(MAX_DELETE_KEYS / MediaKind::ALL.len()) {
        let mut gone = Vec::new();
        for id in chunk {
            // Record first: if a message takes it meanwhile, the condition fails and the object stays.
            if ctx.store.delete_unsent_attachment(id).await? {
                gone.push(id.clone());
            }
        }
        if gone.is_empty() {
            continue;
        }
        let keys: Vec<String> = gone.iter().flat_map(|id| MediaKind::ALL.map(|kind| kind.key(id))).collect();
        ctx.media.delete(&keys).await?;
        deleted += gone.len();
    }
    Ok(deleted)
}

/// Deletes files no one may download any more (already marked deleted):
/// those of a message deleted for everyone that no other message carries, or
/// a replaced avatar — their S3 objects, then their records. Whatever fails
/// here, the hourly cleanup finishes: they are expired uploads now.
pub async fn purge_deleted(ctx: &AppContext, kind: MediaKind, attachment_ids: &[String]) -> Result<(), AppError> {
    for chunk in attachment_ids.chunks(MAX_DELETE_KEYS) {
        let keys: Vec<String> = chunk.iter().map(|id| kind.key(id)).collect();
        ctx.media.delete(&keys).await?;
        for id in chunk {
            ctx.store.delete_unsent_attachment(id).await?;
        }
    }
    Ok(())
}

pub fn views(attachments: &[Attachment]) -> Vec<AttachmentView> {
    attachments.iter().map(Attachment::view).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_are_checked_by_their_grammar_and_stored_canonical() {
        assert_eq!(canonical_media_type("image/PNG").as_deref(), Some("image/png"));
        assert_eq!(canonical_media_type("video/mp4").as_deref(), Some("video/mp4"));
        for bad in [
            "audio/mpeg, text/html",
            "audio/x<script>",
            "image/png\r\nx-evil: 1",
            "image/png; charset=x",
            "image",
            "/png",
            "",
            " image/png",
        ] {
            assert_eq!(canonical_media_type(bad), None, "{bad:?} must be refused");
        }
    }

    #[test]
    fn downloads_keep_their_file_name() {
        assert_eq!(content_disposition("photo 1.jpg"), "attachment; filename=\"photo 1.jpg\"; filename*=UTF-8''photo%201%2Ejpg");
        assert!(content_disposition("été \"x\".pdf").starts_with("attachment; filename=\"_t_ _x_.pdf\"; filename*=UTF-8''%C3%A9t%C3%A9"));
    }
}
