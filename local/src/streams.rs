//! Lambda's DynamoDB event source mapping, locally: polls the table's stream
//! (DynamoDB Local's Streams), follows its shards, drops records the mapping's filter rejects, invokes the function with
//! batches in the Lambda event format, and on failure retries — from the
//! lowest failed record when the function reports `batchItemFailures`, the
//! whole batch otherwise — up to `MaximumRetryAttempts`, then moves on.
//! With a `ParallelizationFactor` of N, each shard's records go to one of N
//! batchers by partition key, as Lambda's do: a key's records stay in order,
//! and a slow batch holds up only the keys of its own batcher.

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::dynamodb::{Event, EventRecord, StreamRecord, StreamViewType, UserIdentity};
use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};
use tracing::{info, warn};

use crate::LocalError;
use crate::lambda::LambdaHost;
use crate::template::StreamSource;

/// How often a shard is read while it has nothing new: Lambda "polls shards in
/// your DynamoDB stream for records at a base rate of 4 times per second"
/// (Lambda developer guide, "Using AWS Lambda with Amazon DynamoDB"). Polling
/// every 50 ms, as this did until 2026-12-02, was 5× AWS's rate and most of
/// what DynamoDB Local did while tests waited.
const IDLE_POLL: Duration = Duration::from_millis(250);

/// A stream record as Lambda hands it to a function.
fn lambda_record(record: &Record, stream_arn: &str, region: &str) -> EventRecord {
    let change = record.dynamodb();
    let image = |image: Option<&std::collections::HashMap<String, aws_sdk_dynamodbstreams::types::AttributeValue>>| {
        image.map(|i| serde_dynamo::Item::from(i.clone())).unwrap_or_default()
    };
    let mut stream_record = StreamRecord::default();
    stream_record.approximate_creation_date_time = change
        .and_then(|c| c.approximate_creation_date_time())
        .and_then(|t| chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
        .unwrap_or_default();
    stream_record.keys = image(change.and_then(|c| c.keys.as_ref()));
    stream_record.new_image = image(change.and_then(|c| c.new_image.as_ref()));
    stream_record.old_image = image(change.and_then(|c| c.old_image.as_ref()));
    stream_record.sequence_number = change.and_then(|c| c.sequence_number()).map(str::to_owned);
    stream_record.size_bytes = change.and_then(|c| c.size_bytes()).unwrap_or(0);
    stream_record.stream_view_type = change.and_then(|c| c.stream_view_type()).and_then(|v| match v.as_str() {
        "NEW_IMAGE" => Some(StreamViewType::NewImage),
        "OLD_IMAGE" => Some(StreamViewType::OldImage),
        "NEW_AND_OLD_IMAGES" => Some(StreamViewType::NewAndOldImages),
        "KEYS_ONLY" => Some(StreamViewType::KeysOnly),
        _ => None,
    });
    let mut out = EventRecord::default();
    out.event_id = record.event_id().unwrap_or_default().to_owned();
    out.event_name = record.event_name().map(|n| n.as_str().to_owned()).unwrap_or_default();
    out.event_version = record.event_version().map(str::to_owned);
    out.event_source = Some("aws:dynamodb".into());
    out.aws_region = region.to_owned();
    out.event_source_arn = Some(stream_arn.to_owned());
    out.change = stream_record;
    out.user_identity = record.user_identity().map(|identity| {
        let mut user = UserIdentity::default();
        user.type_ = identity.r#type().unwrap_or_default().to_owned();
        user.principal_id = identity.principal_id().unwrap_or_default().to_owned();
        user
    });
    out
}

fn sequence_number(record: &EventRecord) -> Option<&str> {
    record.change.sequence_number.as_deref()
}

/// How often an idle poller takes a fresh iterator after the last record it
/// read. A stand-in may replace a table's stream object (moto does when it
/// rolls back a cancelled transaction), after which the old iterator answers
/// nothing for ever; a fresh iterator at the same position reads on.
const REFRESH_IDLE: Duration = Duration::from_secs(1);

/// How often the stream's shards are listed again: a stream's shards close
/// and are followed by child shards (DynamoDB rolls them over every few hours,
/// DynamoDB Local too), and a poller that kept its first list would stop.
const DESCRIBE_EVERY: Duration = Duration::from_secs(5);

/// One shard being followed.
struct ShardPoll {
    shard_id: String,
    parent: Option<String>,
    /// Closed and read to its end: its children come next.
    finished: bool,
    iterator: Option<String>,
    /// Sequence number of the last record read from this shard.
    last_read: Option<String>,
    refreshed_at: tokio::time::Instant,
    /// The shard's batchers (`ParallelizationFactor` of them), started on its first records.
    lanes: Vec<tokio::sync::mpsc::UnboundedSender<EventRecord>>,
}

/// A table's stream with its event source mapping, positioned where Lambda
/// would start reading: the horizon for TRIM_HORIZON, or past every record
/// already written for LATEST. Positioned before the runtime starts serving,
/// so nothing written afterwards can be taken for old.
impl ShardPoll {
    fn new(shard_id: String, parent: Option<String>) -> Self {
        let refreshed_at = tokio::time::Instant::now();
        Self { shard_id, parent, finished: false, iterator: None, last_read: None, refreshed_at, lanes: Vec::new() }
    }
}

pub struct Poller {
    lambda: Arc<LambdaHost>,
    streams: aws_sdk_dynamodbstreams::Client,
    region: String,
    source: StreamSource,
    arn: String,
    /// The table's partition key: what picks a record's batcher.
    hash_key: String,
    shards: Vec<ShardPoll>,
}

impl Poller {
    pub async fn position(
        lambda: Arc<LambdaHost>,
        dynamo: aws_sdk_dynamodb::Client,
        streams: aws_sdk_dynamodbstreams::Client,
        table_name: String,
        region: String,
        source: StreamSource,
    ) -> Result<Self, LocalError> {
        let aws = |e: &dyn std::fmt::Display| LocalError::Aws(e.to_string());
        let table = dynamo.describe_table().table_name(&table_name).send().await.map_err(|e| aws(&e))?;
        let arn = table
            .table()
            .and_then(|t| t.latest_stream_arn())
            .ok_or_else(|| LocalError::Template(format!("{table_name} has no stream")))?
            .to_owned();
        let hash_key = table
            .table()
            .and_then(|t| t.key_schema().iter().find(|k| k.key_type().as_str() == "HASH"))
            .map(|k| k.attribute_name().to_owned())
            .unwrap_or_default();
        let mut shards = Vec::new();
        // LATEST is a position no sequence number names: read each shard to
        // its end now and start after its last record. (Record timestamps
        // cannot tell: DynamoDB Local rounds them down to the minute.)
        if source.starting_position != "TRIM_HORIZON" {
            for (shard_id, parent) in list_shards(&streams, &arn).await.map_err(|e| aws(&e))? {
                let mut shard = ShardPoll::new(shard_id, parent);
                shard.last_read = last_sequence_number(&streams, &arn, &shard.shard_id).await.map_err(|e| aws(&e))?;
                shards.push(shard);
            }
        }
        info!(function = %source.function, table = %table_name, "polling stream");
        Ok(Self { lambda, streams, region, source, arn, hash_key, shards })
    }

    pub async fn run(self) {
        let Self { lambda, streams, region, source, arn, hash_key, mut shards } = self;
        let source = Arc::new(source);
        let mut described_at: Option<tokio::time::Instant> = None;
        loop {
            if described_at.is_none_or(|at| at.elapsed() >= DESCRIBE_EVERY) {
                match list_shards(&streams, &arn).await {
                    Ok(listed) => {
                        described_at = Some(tokio::time::Instant::now());
                        for (shard_id, parent) in listed {
                            if !shards.iter().any(|s| s.shard_id == shard_id) {
                                shards.push(ShardPoll::new(shard_id, parent));
                            }
                        }
                    }
                    Err(e) => warn!(error = %e, "DescribeStream failed"),
                }
            }
            // A child shard is read once its parent is read to its end (or gone).
            let unfinished: Vec<String> = shards.iter().filter(|s| !s.finished).map(|s| s.shard_id.clone()).collect();
            let mut got_any = false;
            for shard in shards.iter_mut().filter(|s| !s.finished) {
                if shard.parent.as_ref().is_some_and(|parent| unfinished.contains(parent)) {
                    continue;
                }
                let idle = shard.refreshed_at.elapsed() >= REFRESH_IDLE;
                if idle || shard.iterator.is_none() {
                    refresh(&streams, &arn, shard).await;
                }
                let Some(iterator) = shard.iterator.clone() else { continue };
                let page = match streams.get_records().shard_iterator(iterator).limit(source.batch_size as i32).send().await {
                    Ok(page) => page,
                    Err(e) => {
                        warn!(error = %aws_sdk_dynamodbstreams::error::DisplayErrorContext(e), "GetRecords failed; taking a fresh iterator");
                        shard.iterator = None;
                        continue;
                    }
                };
                shard.iterator = page.next_shard_iterator().map(str::to_owned);
                // No next iterator: the shard is closed and this was its end.
                shard.finished = shard.iterator.is_none();
                if let Some(last) = page.records().last().and_then(|r| r.dynamodb()).and_then(|c| c.sequence_number()) {
                    shard.last_read = Some(last.to_owned());
                    shard.refreshed_at = tokio::time::Instant::now();
                }
                let records = page
                    .records()
                    .iter()
                    .filter(|r| {
                        source.event_names.is_empty() || r.event_name().is_some_and(|n| source.event_names.iter().any(|f| f == n.as_str()))
                    })
                    .map(|r| lambda_record(r, &arn, &region))
                    .collect::<Vec<_>>();
                if records.is_empty() {
                    continue;
                }
                got_any = true;
                if shard.lanes.is_empty() {
                    shard.lanes = (0..source.parallelization_factor).map(|_| batcher(lambda.clone(), source.clone())).collect();
                }
                for record in records {
                    let lane = lane_of(&record, &hash_key, shard.lanes.len());
                    let _ = shard.lanes[lane].send(record);
                }
            }
            if !got_any {
                tokio::time::sleep(IDLE_POLL).await;
            }
        }
    }
}

/// Which of `lanes` batchers a record goes to: by its partition key, so one
/// key's records are delivered in order.
fn lane_of(record: &EventRecord, hash_key: &str, lanes: usize) -> usize {
    if lanes <= 1 {
        return 0;
    }
    let key = record.change.keys.get(hash_key).map(|v| format!("{v:?}")).unwrap_or_default();
    domain::ids::shard_of(&key, lanes as u64) as usize
}

/// One batcher: gathers records into batches like Lambda (invoke when the
/// batch is full or the batching window has passed since its first record)
/// and delivers them one batch at a time, in order.
fn batcher(lambda: Arc<LambdaHost>, source: Arc<StreamSource>) -> tokio::sync::mpsc::UnboundedSender<EventRecord> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<EventRecord>();
    tokio::spawn(async move {
        let window = Duration::from_secs(source.batching_window_secs);
        while let Some(first) = rx.recv().await {
            let started = tokio::time::Instant::now();
            let mut batch = vec![first];
            while batch.len() < source.batch_size {
                // What is already here goes in at once; then wait out the window.
                match rx.try_recv() {
                    Ok(record) => batch.push(record),
                    Err(_) => {
                        let left = window.saturating_sub(started.elapsed());
                        if left.is_zero() {
                            break;
                        }
                        match tokio::time::timeout(left, rx.recv()).await {
                            Ok(Some(record)) => batch.push(record),
                            _ => break,
                        }
                    }
                }
            }
            deliver(&lambda, &source, batch).await;
        }
    });
    tx
}

/// The stream's shards and their parents.
async fn list_shards(streams: &aws_sdk_dynamodbstreams::Client, arn: &str) -> Result<Vec<(String, Option<String>)>, String> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = streams
            .describe_stream()
            .stream_arn(arn)
            .set_exclusive_start_shard_id(after.clone())
            .send()
            .await
            .map_err(|e| aws_sdk_dynamodbstreams::error::DisplayErrorContext(e).to_string())?;
        let Some(description) = page.stream_description() else { return Ok(out) };
        out.extend(description.shards().iter().filter_map(|s| Some((s.shard_id()?.to_owned(), s.parent_shard_id().map(str::to_owned)))));
        after = description.last_evaluated_shard_id().map(str::to_owned);
        if after.is_none() {
            return Ok(out);
        }
    }
}

/// The sequence number of a shard's last record so far, if it has any.
async fn last_sequence_number(streams: &aws_sdk_dynamodbstreams::Client, arn: &str, shard_id: &str) -> Result<Option<String>, String> {
    use aws_sdk_dynamodbstreams::error::DisplayErrorContext as error;
    let start = streams.get_shard_iterator().stream_arn(arn).shard_id(shard_id).shard_iterator_type(ShardIteratorType::TrimHorizon);
    let mut iterator = start.send().await.map_err(|e| error(e).to_string())?.shard_iterator;
    let mut last = None;
    while let Some(current) = iterator {
        let page = streams.get_records().shard_iterator(current).send().await.map_err(|e| error(e).to_string())?;
        match page.records().last().and_then(|r| r.dynamodb()).and_then(|c| c.sequence_number()) {
            Some(sequence_number) => last = Some(sequence_number.to_owned()),
            None => break,
        }
        iterator = page.next_shard_iterator;
    }
    Ok(last)
}

/// A fresh iterator right after the last record read (or from the horizon
/// when none was read yet); on failure the shard is tried again next round.
async fn refresh(streams: &aws_sdk_dynamodbstreams::Client, arn: &str, shard: &mut ShardPoll) {
    let request = streams.get_shard_iterator().stream_arn(arn).shard_id(&shard.shard_id);
    let request = match &shard.last_read {
        Some(last) => request.shard_iterator_type(ShardIteratorType::AfterSequenceNumber).sequence_number(last),
        None => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
    };
    shard.refreshed_at = tokio::time::Instant::now();
    match request.send().await {
        Ok(out) => shard.iterator = out.shard_iterator().map(str::to_owned),
        Err(e) => warn!(error = %aws_sdk_dynamodbstreams::error::DisplayErrorContext(e), "GetShardIterator failed"),
    }
}

/// Invokes the function with one batch until it succeeds or retries run out.
async fn deliver(lambda: &LambdaHost, source: &StreamSource, mut records: Vec<EventRecord>) {
    for attempt in 0..=source.maximum_retry_attempts {
        let mut event = Event::default();
        event.records = records.clone();
        let failed_from = match lambda.invoke(&source.function, "stream", "", event).await {
            Ok(response) if source.report_batch_item_failures => response["batchItemFailures"].as_array().and_then(|failures| {
                failures
                    .iter()
                    .filter_map(|f| f["itemIdentifier"].as_str())
                    .min_by_key(|s| s.parse::<u128>().unwrap_or(0))
                    .map(str::to_owned)
            }),
            Ok(_) => None,
            Err(e) => {
                warn!(function = %source.function, error = %e, "stream batch failed");
                records.first().and_then(sequence_number).map(str::to_owned)
            }
        };
        let Some(failed_from) = failed_from else { return };
        // Retry from the lowest failed record, like Lambda's checkpointing.
        let first_failed = failed_from.parse::<u128>().unwrap_or(0);
        records.retain(|r| sequence_number(r).and_then(|s| s.parse::<u128>().ok()).is_some_and(|s| s >= first_failed));
        if records.is_empty() {
            return;
        }
        info!(function = %source.function, attempt, retrying = records.len(), "retrying stream records");
        crate::backoff_for_retry(attempt).await;
    }
    warn!(function = %source.function, dropped = records.len(), "stream records dropped after maximum retries");
}
