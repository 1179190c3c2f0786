//! Identifiers: ULIDs for messages and groups, a deterministic id for 1-1 chats,
//! the character rules for ids that come from clients, and the typed ids
//! ([`UserId`], [`ChatId`], …) that carry those rules.

use ulid::Ulid;

use crate::error::AppError;

mod typed;

pub use typed::{AttachmentId, ChatId, DeviceId, InvalidId, UserId};

pub const MAX_ID_LEN: usize = 64;
/// A 1-1 chat id (`dm-<user>-<user>`) is the longest id a client sends.
pub const MAX_CHAT_ID_LEN: usize = 3 * MAX_ID_LEN;

/// Time-ordered, globally unique id for a stored message.
pub fn new_message_id() -> String {
    Ulid::generate().to_string()
}

pub fn new_group_id() -> String {
    format!("g-{}", Ulid::generate())
}

/// One 1-1 chat per pair of users, whoever creates it first: the id is derived
/// from the two user ids, so a second `createChat` finds the existing chat.
pub fn direct_chat_id(a: &str, b: &str) -> String {
    let (low, high) = if a <= b { (a, b) } else { (b, a) };
    format!("dm-{low}-{high}")
}

/// User and device ids travel in keys (`user#device`) and chat ids, so they are
/// limited to characters that need no escaping anywhere.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_ID_LEN && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
}

/// The plain-id rule for an id that is not (yet) typed; `kind` names it in
/// the error.
pub fn check_id(kind: &str, id: &str) -> Result<(), AppError> {
    Ok(typed::check_plain(kind, id)?)
}

/// The chat-id rule, for a chat id that is not (yet) typed (a path parameter).
pub fn check_chat_id(chat_id: &str) -> Result<(), AppError> {
    Ok(typed::check_chat("chatId", chat_id)?)
}

/// The first 64 bits of SHA-256 over `bytes`. Values derived from it are
/// stored and compared across processes and releases, so the algorithm is a
/// specified one: std's `DefaultHasher` may change between Rust releases.
fn stable_hash(bytes: &[u8]) -> u64 {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    u64::from_be_bytes(digest[..8].try_into().expect("SHA-256 has 32 bytes"))
}

/// A stable shard in `0..shards` for a key, to spread one time bucket of an
/// index over several partitions.
pub fn shard_of(key: &str, shards: u64) -> u64 {
    stable_hash(key.as_bytes()) % shards
}

/// `<period>#<shard>`: one partition of a sparse time-bucket index. Writers
/// list an item under its period and its key's [`shard_of`]; the jobs that
/// read such an index ask every shard of recent periods ([`time_buckets`]).
pub fn time_bucket(period: u64, key: &str, shards: u64) -> String {
    bucket_name(period, shard_of(key, shards))
}

fn bucket_name(period: u64, shard: u64) -> String {
    format!("{period}#{shard}")
}

/// Every bucket of the given periods, each in all of its shards.
pub fn time_buckets(periods: std::ops::RangeInclusive<u64>, shards: u64) -> impl Iterator<Item = String> {
    periods.flat_map(move |period| (0..shards).map(move |shard| bucket_name(period, shard)))
}

/// The same delivered receipt always gets the same id, so a retried stream
/// batch overwrites its inbox entries instead of adding duplicates.
pub fn receipt_id(recipient: &str, chat_id: &str, seq: u64) -> String {
    // Ids never hold NUL, so the fields cannot run into each other.
    let hash = stable_hash(format!("{recipient}\0{chat_id}\0{seq}").as_bytes());
    format!("R{seq:012}{hash:016x}")
}

/// The (user, device) an inbox partition key names.
pub fn parse_device_key(key: &str) -> Option<(String, String)> {
    let (user, device) = key.split_once('#')?;
    Some((user.to_owned(), device.to_owned()))
}

/// Inbox partition key: one inbox per device.
pub fn device_key(user_id: &str, device_id: &str) -> String {
    format!("{user_id}#{device_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_jobs_read_every_bucket_writers_can_list_an_item_in() {
        let read: Vec<String> = time_buckets(9..=10, 4).collect();
        assert_eq!(read.len(), 8);
        for key in ["alice#phone", "bob#tablet", "01JDX4W0Q3K6Y8V1S7M2N9B5CR"] {
            assert!(read.contains(&time_bucket(10, key, 4)), "{key}");
            assert!(!read.contains(&time_bucket(11, key, 4)));
        }
    }

    /// Stored values: the same on every machine and Rust release (the
    /// expected values are SHA-256 as Python's `hashlib` computes it).
    #[test]
    fn shards_and_receipt_ids_are_specified_values() {
        assert_eq!(shard_of("alice#phone", 16), 4);
        assert_eq!(shard_of("bob#tablet", 16), 7);
        assert_eq!(receipt_id("bob", "chat-1", 7), "R0000000000070dfed9541d624ff7");
        assert_ne!(receipt_id("bob", "chat-1", 7), receipt_id("bob", "chat-2", 7));
    }

    #[test]
    fn direct_chat_id_is_symmetric_and_distinct_per_pair() {
        assert_eq!(direct_chat_id("alice", "bob"), direct_chat_id("bob", "alice"));
        assert_ne!(direct_chat_id("alice", "bob"), direct_chat_id("alice", "carol"));
    }

    #[test]
    fn message_ids_sort_by_creation_time() {
        let first = new_message_id();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = new_message_id();
        assert!(first < second);
    }

    #[test]
    fn ids_with_separators_are_refused() {
        assert!(is_valid_id("alice_01.x"));
        assert!(!is_valid_id("alice#phone"));
        assert!(!is_valid_id("a-b"));
        assert!(!is_valid_id(""));
        assert!(!is_valid_id(&"a".repeat(65)));
    }
}
