//! Identifiers: ULIDs for messages and groups, a deterministic id for 1-1 chats,
//! and the character rules for ids that come from clients.

use ulid::Ulid;

use crate::error::AppError;

pub const MAX_ID_LEN: usize = 64;

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
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
}

pub fn check_id(kind: &str, id: &str) -> Result<(), AppError> {
    if is_valid_id(id) {
        Ok(())
    } else {
        Err(AppError::invalid(format!("{kind} must be 1-{MAX_ID_LEN} characters of A-Z a-z 0-9 _ .")))
    }
}

/// A stable shard in `0..shards` for a key, to spread one time bucket of an
/// index over several partitions.
pub fn shard_of(key: &str, shards: u64) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut hasher);
    hasher.finish() % shards
}

/// The same delivered receipt always gets the same id, so a retried stream
/// batch overwrites its inbox entries instead of adding duplicates.
pub fn receipt_id(recipient: &str, chat_id: &str, seq: u64) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (recipient, chat_id, seq).hash(&mut hasher);
    format!("R{seq:012}{:016x}", hasher.finish())
}

/// Inbox partition key: one inbox per device.
pub fn device_key(user_id: &str, device_id: &str) -> String {
    format!("{user_id}#{device_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

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
