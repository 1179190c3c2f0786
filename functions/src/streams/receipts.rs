//! Delivered receipts, from the inbox table's stream: an `ack` deletes an inbox
//! entry, and its REMOVE record (old image) says which recipient received which
//! message. Keeping receipts off the ack path keeps an ack at one call, and a
//! batch of acks becomes a few receipts. Only acks make receipts: entries
//! removed by TTL (a service principal), by the cleanup job (expired) or
//! because their device was unregistered (marked discarded first) were never
//! delivered and are skipped. A failed batch is reported whole
//! (`batchItemFailures`) and retried; receipts are idempotent.

use std::sync::Arc;

use aws_lambda_events::dynamodb::{Event, EventRecord};
use aws_lambda_events::streams::DynamoDbEventResponse;
use domain::AppContext;
use domain::ids::parse_device_key;
use domain::messaging::{DeliveredAck, receipts_for_acks};
use domain::model::InboxEntry;
use domain::time::now_secs;
use tracing::{error, warn};
use transport::lambda::{HandlerError, retry_records};

/// The acknowledged message in a REMOVE record, if it is one.
pub fn delivered_ack(record: &EventRecord) -> Option<DeliveredAck> {
    if record.event_name != "REMOVE" || record.user_identity.as_ref().is_some_and(|u| u.type_ == "Service") {
        return None;
    }
    let entry: InboxEntry = match serde_dynamo::from_item(record.change.old_image.clone()) {
        Ok(entry) => entry,
        Err(e) => {
            warn!(error = %e, "inbox stream record without a readable old image");
            return None;
        }
    };
    // Lambda's events may lack the record's time; then it is about now.
    let removed_at = match record.change.approximate_creation_date_time.timestamp() {
        secs if secs > 0 => secs as u64,
        _ => now_secs(),
    };
    if !entry.is_message() || !entry.removal_was_ack(removed_at) {
        return None;
    }
    let (recipient, device) = parse_device_key(&entry.device_key)?;
    Some(DeliveredAck { recipient, device, chat_id: entry.chat_id, seq: entry.seq, sender: entry.sender_id? })
}

pub async fn handle(ctx: Arc<AppContext>, event: Event) -> Result<DynamoDbEventResponse, HandlerError> {
    let acks: Vec<DeliveredAck> = event.records.iter().filter_map(delivered_ack).collect();
    if let Err(e) = receipts_for_acks(&ctx, &acks).await {
        error!(error = %e, records = event.records.len(), "receipts failed; the batch will be retried");
        return Ok(retry_records(event.records.iter().filter_map(|r| r.change.sequence_number.clone())));
    }
    Ok(DynamoDbEventResponse::default())
}
