//! Attachments table: one item per uploaded (or about to be uploaded) file,
//! recording the chat and uploader it belongs to and what S3 was told to
//! accept. Unsent uploads carry an expiry and a sparse `byExpiry` bucket so the
//! cleanup finds abandoned ones without a scan; sending clears both.

use serde::{Deserialize, Serialize};

use crate::protocol::AttachmentView;

/// Shards per day of the attachments' `byExpiry` index (abandoned uploads are few).
pub const ATTACHMENT_EXPIRY_SHARDS: u64 = 4;

/// What the Attachments table records as an avatar's chat: no chat id has a `#`.
pub const AVATAR_SCOPE: &str = "#avatar";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    pub attachment_id: String,
    pub chat_id: String,
    pub uploader_id: String,
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    /// Base64 SHA-256 of the content; S3 refuses an upload that does not match.
    pub sha256: String,
    pub created_at: u64,
    /// Seq of the first message that carried it; unset while unsent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_seq: Option<u64>,
    /// Seqs of every message that carried it (a file forwarded again in the
    /// same chat): whoever sees any of them may download it.
    #[serde(default, with = "serde_dynamo::number_set", skip_serializing_if = "Vec::is_empty")]
    pub sent_seqs: Vec<u64>,
    /// While unsent: when cleanup deletes it (seconds since the epoch)...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// ...and the `byExpiry` partition it is listed in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_bucket: Option<String>,
    /// When the last message carrying it was deleted for everyone: no one may
    /// download it, and it is deleted (now, or by the next cleanup).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<u64>,
}

pub fn attachment_expiry_bucket(attachment_id: &str, expires_at: u64) -> String {
    crate::ids::time_bucket(expires_at / 86_400, attachment_id, ATTACHMENT_EXPIRY_SHARDS)
}

impl Attachment {
    /// The seqs of the messages that carried it (none while unsent).
    pub fn carried_by(&self) -> Vec<u64> {
        if self.sent_seqs.is_empty() { self.sent_seq.into_iter().collect() } else { self.sent_seqs.clone() }
    }

    /// The seqs of the messages still carrying it once the one at `seq` is
    /// deleted for everyone (none: the file goes too).
    pub fn carried_by_all_but(&self, seq: u64) -> Vec<u64> {
        self.carried_by().into_iter().filter(|s| *s != seq).collect()
    }

    pub fn view(&self) -> AttachmentView {
        AttachmentView {
            attachment_id: self.attachment_id.clone(),
            file_name: self.file_name.clone(),
            content_type: self.content_type.clone(),
            size: self.size,
            sha256: self.sha256.clone(),
        }
    }
}
