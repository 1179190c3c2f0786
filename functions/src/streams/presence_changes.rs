//! Presence announcements, from the users table's stream: a record whose two
//! images differ in whether any device holds a connection means the user came
//! online or went offline, and their watchers are told. Doing it here rather
//! than in `$connect`/`$disconnect` keeps connecting as fast with a thousand
//! watchers as with none (issue 13), and covers every way a connection ends
//! (disconnect, sweep, unregistering the device) with one code path.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_lambda_events::dynamodb::Event;
use aws_lambda_events::streams::DynamoDbEventResponse;
use domain::AppContext;
use domain::messaging::presence::{announce, presence_change};
use domain::model::UserDevices;
use futures::StreamExt;
use tracing::{error, warn};
use transport::lambda::{HandlerError, retry_records};

/// Users announced at once; each announcement posts with the fan-out's own bound.
const USERS_AT_ONCE: usize = 4;

pub async fn handle(ctx: Arc<AppContext>, event: Event) -> Result<DynamoDbEventResponse, HandlerError> {
    // The last change per user in the batch (a stream keeps one key's records in order).
    let mut changes = BTreeMap::new();
    for record in &event.records {
        let Some(sequence_number) = record.change.sequence_number.clone() else { continue };
        let image = |item: &serde_dynamo::Item| -> Option<UserDevices> {
            (!item.is_empty()).then(|| serde_dynamo::from_item(item.clone())).transpose().unwrap_or_else(|e| {
                warn!(sequence_number, error = %e, "users record with an unreadable image: skipped");
                None
            })
        };
        let (old, new) = (image(&record.change.old_image), image(&record.change.new_image));
        let at_ms = record.change.approximate_creation_date_time.timestamp_millis().max(0) as u64;
        if let Some(view) = presence_change(old.as_ref(), new.as_ref(), at_ms) {
            let privacy = new.as_ref().or(old.as_ref()).map(|u| u.privacy).unwrap_or_default();
            changes.insert(view.user_id.clone(), (sequence_number, view, privacy));
        }
    }
    let failed: Vec<String> = futures::stream::iter(changes.into_values())
        .map(|(sequence_number, view, privacy)| {
            let ctx = &ctx;
            async move {
                match announce(ctx, &view, privacy).await {
                    Ok(_) => None,
                    Err(e) => {
                        error!(user_id = view.user_id, error = %e, "presence not announced; the record will be retried");
                        Some(sequence_number)
                    }
                }
            }
        })
        .buffer_unordered(USERS_AT_ONCE)
        .filter_map(|failed| async move { failed })
        .collect()
        .await;
    Ok(retry_records(failed))
}
