//! Offline push, from the inbox table's stream: every INSERT is a frame waiting
//! for a device; devices without a live connection get an SNS push (see
//! `domain::messaging::push`). Failures are reported per record
//! (`batchItemFailures`), so one bad record does not replay the whole batch.

use std::sync::Arc;

use aws_lambda_events::dynamodb::Event;
use aws_lambda_events::streams::DynamoDbEventResponse;
use domain::AppContext;
use domain::messaging::{NewEntry, push_offline};
use tracing::{error, warn};
use transport::lambda::{HandlerError, retry_records};

pub async fn handle(ctx: Arc<AppContext>, event: Event) -> Result<DynamoDbEventResponse, HandlerError> {
    let mut new_entries = Vec::new();
    for record in event.records.iter().filter(|r| r.event_name == "INSERT") {
        let Some(record_id) = record.change.sequence_number.clone() else { continue };
        match serde_dynamo::from_item(record.change.new_image.clone()) {
            Ok(entry) => new_entries.push(NewEntry { record_id, entry }),
            Err(e) => warn!(record_id, error = %e, "inbox record without a readable new image: skipped"),
        }
    }
    let failed = match push_offline(&ctx, &new_entries).await {
        Ok(failed) => failed,
        Err(e) => {
            error!(error = %e, "push batch failed; every record will be retried");
            new_entries.iter().map(|n| n.record_id.clone()).collect()
        }
    };
    Ok(retry_records(failed))
}
