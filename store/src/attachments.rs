//! Attachments table: one item per uploaded (or about to be uploaded) file,
//! recording the chat and uploader it belongs to and what S3 was told to
//! accept. Unsent uploads carry an expiry and a sparse `byExpiry` bucket so the
//! cleanup finds abandoned ones without a scan; sending clears both.

use super::{DynamoStore, applied, n, s};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use domain::error::StoreError;
use domain::model::attachments::{Attachment, attachment_expiry_bucket};
use domain::ports::AttachmentTable;
use std::collections::HashMap;

fn key(attachment_id: &str) -> super::Item {
    HashMap::from([("attachmentId".to_owned(), s(attachment_id))])
}

/// Transaction action for `sendMessage`: the attachment now belongs to a
/// message at `seq` (the first one, if it is sent again) and is no longer
/// abandoned. Conditioned on chat and uploader, which the sender checked.
pub(crate) fn mark_sent(table: &str, attachment: &Attachment, seq: u64) -> Result<TransactWriteItem, StoreError> {
    let update = Update::builder()
        .table_name(table)
        .set_key(Some(key(&attachment.attachment_id)))
        .update_expression("SET sentSeq = if_not_exists(sentSeq, :seq) ADD sentSeqs :seqs REMOVE expiresAt, expiryBucket")
        .condition_expression("chatId = :chat AND uploaderId = :uploader")
        .expression_attribute_values(":seq", n(seq))
        .expression_attribute_values(":seqs", aws_sdk_dynamodb::types::AttributeValue::Ns(vec![seq.to_string()]))
        .expression_attribute_values(":chat", s(&attachment.chat_id))
        .expression_attribute_values(":uploader", s(&attachment.uploader_id))
        .build()?;
    Ok(TransactWriteItem::builder().update(update).build())
}

/// Transaction action for a deletion for everyone: the message at `seq` no
/// longer carries the attachment. When no other message does, it is marked
/// deleted and made an expired upload, so that the cleanup deletes it (and
/// its S3 object) should the deletion's own purge not finish.
pub(crate) fn unmark_sent(table: &str, attachment: &Attachment, seq: u64, now_ms: u64) -> Result<TransactWriteItem, StoreError> {
    let remaining = attachment.carried_by_all_but(seq);
    let update = match remaining.iter().min() {
        Some(first) => Update::builder()
            .table_name(table)
            .set_key(Some(key(&attachment.attachment_id)))
            .condition_expression("attribute_exists(attachmentId)")
            .update_expression("SET sentSeq = :first, sentSeqs = :rest")
            .expression_attribute_values(":first", n(first))
            .expression_attribute_values(
                ":rest",
                aws_sdk_dynamodb::types::AttributeValue::Ns(remaining.iter().map(u64::to_string).collect()),
            )
            .build()?,
        None => discarded(table, &attachment.attachment_id, now_ms)?,
    };
    Ok(TransactWriteItem::builder().update(update).build())
}

/// The update that marks an attachment deleted and makes it an expired
/// upload, for [`AttachmentTable::delete_unsent_attachment`] now or the cleanup later.
fn discarded(table: &str, attachment_id: &str, now_ms: u64) -> Result<Update, StoreError> {
    let expires_at = now_ms / 1000;
    Ok(Update::builder()
        .table_name(table)
        .set_key(Some(key(attachment_id)))
        .condition_expression("attribute_exists(attachmentId)")
        .update_expression("SET deletedAt = :now, expiresAt = :expires, expiryBucket = :bucket REMOVE sentSeq, sentSeqs")
        .expression_attribute_values(":now", n(now_ms))
        .expression_attribute_values(":expires", n(expires_at))
        .expression_attribute_values(":bucket", s(attachment_expiry_bucket(attachment_id, expires_at)))
        .build()?)
}

#[async_trait]
impl AttachmentTable for DynamoStore {
    async fn put_attachment(&self, attachment: &Attachment) -> Result<bool, StoreError> {
        self.put_new(&self.tables.attachments, serde_dynamo::to_item(attachment)?, "attachmentId").await
    }

    async fn get_attachment(&self, attachment_id: &str) -> Result<Option<Attachment>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.tables.attachments)
            .set_key(Some(key(attachment_id)))
            .consistent_read(true)
            .send()
            .await?;
        Ok(out.item.map(serde_dynamo::from_item).transpose()?)
    }

    async fn attachments_by_id(&self, attachment_ids: &[String]) -> Result<Vec<Attachment>, StoreError> {
        let keys = attachment_ids.iter().map(|id| key(id.as_ref())).collect();
        let items = self.batch_get(&self.tables.attachments, keys, None).await?;
        Ok(items.into_iter().map(serde_dynamo::from_item).collect::<Result<_, _>>()?)
    }

    async fn abandoned_attachments(&self, bucket: &str, now_secs: u64) -> Result<Vec<String>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.tables.attachments)
            .index_name("byExpiry")
            .key_condition_expression("expiryBucket = :b AND expiresAt < :now")
            .expression_attribute_values(":b", s(bucket))
            .expression_attribute_values(":now", n(now_secs));
        let items = self.query_all(query).await?;
        Ok(items.iter().filter_map(|item| item.get("attachmentId")?.as_s().ok().cloned()).collect())
    }

    async fn keep_attachment(&self, attachment_id: &str) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.tables.attachments)
            .set_key(Some(key(attachment_id)))
            .update_expression("SET sentSeq = :none REMOVE expiresAt, expiryBucket")
            .condition_expression("attribute_exists(attachmentId)")
            .expression_attribute_values(":none", n(0))
            .send()
            .await?;
        Ok(())
    }

    async fn discard_attachment(&self, attachment_id: &str, now_ms: u64) -> Result<(), StoreError> {
        let update = discarded(&self.tables.attachments, attachment_id, now_ms)?;
        self.client
            .update_item()
            .table_name(update.table_name)
            .set_key(Some(update.key))
            .update_expression(update.update_expression)
            .set_condition_expression(update.condition_expression)
            .set_expression_attribute_values(update.expression_attribute_values)
            .send()
            .await?;
        Ok(())
    }

    async fn delete_unsent_attachment(&self, attachment_id: &str) -> Result<bool, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.tables.attachments)
            .set_key(Some(key(attachment_id)))
            .condition_expression("attribute_exists(attachmentId) AND attribute_not_exists(sentSeq)")
            .send()
            .await;
        applied(result)
    }
}
