//! Read state: unread counts that count messages only, read markers that
//! only move forward, receipts to senders and read syncs to one's devices.

use serde_json::json;

use super::{World, request};
use crate::auth::Identity;
use crate::protocol::{ChatSummary, ServerFrame};

async fn read_up_to(world: &World, who: &Identity, chat: &str, seq: u64) -> u64 {
    match super::super::mark_read(world.ctx(), who, request(json!({ "chatId": chat, "upToSeq": seq }))).await.unwrap() {
        ServerFrame::MarkedRead { last_read, .. } => last_read,
        other => panic!("{other:?}"),
    }
}

async fn summary(world: &World, user: &str, chat: &str) -> ChatSummary {
    let summaries = super::super::chat_summaries(world.ctx(), user).await.unwrap();
    summaries.into_iter().find(|s| s.chat_id == chat).expect("the chat is listed")
}

#[tokio::test]
async fn unread_counts_fall_as_the_member_reads() {
    let world = World::new();
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    let chat = world.direct(&alice, "bob").await;
    let first = world.sent(&alice, &chat, "1").await;
    world.sent(&alice, &chat, "2").await;
    world.sent(&alice, &chat, "3").await;
    assert_eq!(summary(&world, "bob", &chat).await.unread_count, 3);
    read_up_to(&world, &bob, &chat, first).await;
    assert_eq!(summary(&world, "bob", &chat).await.unread_count, 2);
    assert_eq!(summary(&world, "alice", &chat).await.unread_count, 0, "one's own messages are read");
}

#[tokio::test]
async fn reactions_and_edits_are_not_unread_messages() {
    let world = World::new();
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    let chat = world.direct(&alice, "bob").await;
    let seq = world.sent(&bob, &chat, "from bob").await;
    read_up_to(&world, &alice, &chat, seq).await;
    super::super::react(world.ctx(), &bob, request(json!({ "chatId": chat, "seq": seq, "emoji": "👍" }))).await.unwrap();
    super::super::edit_message(world.ctx(), &bob, request(json!({ "chatId": chat, "seq": seq, "message": "edited" }))).await.unwrap();
    assert_eq!(summary(&world, "alice", &chat).await.unread_count, 0);
}

#[tokio::test]
async fn a_read_marker_never_moves_back_nor_past_the_chat() {
    let world = World::new();
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    let chat = world.direct(&alice, "bob").await;
    world.sent(&alice, &chat, "1").await;
    let last = world.sent(&alice, &chat, "2").await;
    assert_eq!(read_up_to(&world, &bob, &chat, 1_000).await, last, "clamped to the chat's last seq");
    assert_eq!(read_up_to(&world, &bob, &chat, 1).await, last, "not moved back");
}

#[tokio::test]
async fn reading_tells_the_sender_and_the_readers_other_devices() {
    let world = World::new();
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    let laptop = world.device("bob", "laptop").await;
    let chat = world.direct(&alice, "bob").await;
    super::super::accept_chat(world.ctx(), &bob, request(json!({ "chatId": chat }))).await.unwrap();
    let seq = world.sent(&alice, &chat, "seen?").await;
    read_up_to(&world, &bob, &chat, seq).await;
    let receipt = world.received(&alice).into_iter().find(|f| f["type"] == "receipt").expect("alice hears bob read it");
    assert_eq!((receipt["status"].as_str(), receipt["upToSeq"].as_u64()), (Some("read"), Some(seq)));
    let sync = world.received(&laptop).into_iter().find(|f| f["type"] == "readSync").expect("bob's laptop follows");
    assert_eq!(sync["upToSeq"].as_u64(), Some(seq));
    assert!(!world.kinds(&bob).contains(&"readSync".to_owned()), "the reading device knows");
}

#[tokio::test]
async fn reading_a_request_tells_its_sender_nothing() {
    let world = World::new();
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    let chat = world.direct(&alice, "bob").await;
    let seq = world.sent(&alice, &chat, "hi stranger").await;
    read_up_to(&world, &bob, &chat, seq).await;
    assert!(!world.kinds(&alice).contains(&"receipt".to_owned()), "{:?}", world.kinds(&alice));
}

#[tokio::test]
async fn mentions_are_counted_until_read() {
    let world = World::new();
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    let group = world.group(&alice, &["bob"]).await;
    let seq = world.sent(&alice, &group, "@bob your turn").await;
    assert_eq!(summary(&world, "bob", &group).await.mention_count, 1);
    read_up_to(&world, &bob, &group, seq).await;
    assert_eq!(summary(&world, "bob", &group).await.mention_count, 0);
}

#[tokio::test]
async fn a_removed_member_keeps_the_chat_with_what_they_could_see() {
    let world = World::new();
    let alice = world.person("alice").await;
    world.person("bob").await;
    let group = world.group(&alice, &["bob"]).await;
    let seen = world.sent(&alice, &group, "before").await;
    let remove = json!({ "chatId": group, "userId": "bob", "operation": "REMOVE" });
    super::super::modify_participants(world.ctx(), &alice, request(remove)).await.unwrap();
    world.sent(&alice, &group, "after").await;
    let bob = summary(&world, "bob", &group).await;
    assert_eq!(bob.removed_at_seq.map(|r| r >= seen), Some(true));
    assert_eq!(bob.unread_count, 1, "only the message from before the removal");
    assert_eq!(bob.last_seq, bob.removed_at_seq.unwrap(), "the list shows the chat as it was");
}

#[tokio::test]
async fn a_muted_chat_is_listed_as_muted_until_unmuted() {
    let world = World::new();
    let alice = world.person("alice").await;
    let chat = world.direct(&alice, "bob").await;
    let mute = |muted: bool| super::super::mute_chat(world.ctx(), &alice, request(json!({ "chatId": chat, "muted": muted })));
    mute(true).await.unwrap();
    assert!(summary(&world, "alice", &chat).await.muted);
    assert!(!summary(&world, "bob", &chat).await.muted, "muting is the caller's own");
    mute(false).await.unwrap();
    assert!(!summary(&world, "alice", &chat).await.muted);
    let eve = world.person("eve").await;
    let by_eve = super::super::mute_chat(world.ctx(), &eve, request(json!({ "chatId": chat, "muted": true }))).await;
    assert_eq!(super::code(by_eve), "not_member");
}
