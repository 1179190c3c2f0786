//! Privacy: who sees a user's presence, and read receipts both ways.

use serde_json::json;

use super::{World, request};
use crate::auth::Identity;

async fn set_privacy(world: &World, who: &Identity, settings: serde_json::Value) {
    super::super::set_privacy(world.ctx(), who, request(settings)).await.unwrap();
}

async fn sees_online(world: &World, viewer: &str, user: &str) -> bool {
    let views = super::super::presence::presence_of(world.ctx(), viewer, &[user.to_owned()]).await.unwrap();
    views.first().is_some_and(|v| v.online)
}

/// Alice and bob in an accepted 1-1 chat, both online.
async fn friends(world: &World) -> (Identity, Identity, String) {
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    let chat = world.direct(&alice, "bob").await;
    super::super::accept_chat(world.ctx(), &bob, request(json!({ "chatId": chat }))).await.unwrap();
    (alice, bob, chat)
}

#[tokio::test]
async fn presence_shows_to_chat_partners_unless_hidden() {
    let world = World::new();
    let (alice, _bob, _) = friends(&world).await;
    assert!(sees_online(&world, "bob", "alice").await);
    set_privacy(&world, &alice, json!({ "presence": "nobody" })).await;
    assert!(!sees_online(&world, "bob", "alice").await);
}

#[tokio::test]
async fn contacts_only_presence_hides_from_those_not_accepted() {
    let world = World::new();
    let (alice, _bob, _) = friends(&world).await;
    let carol = world.person("carol").await;
    // Carol asked alice for a chat; alice never accepted her.
    world.direct(&carol, "alice").await;
    set_privacy(&world, &alice, json!({ "presence": "contacts" })).await;
    assert!(sees_online(&world, "bob", "alice").await, "alice accepted bob by starting their chat");
    assert!(!sees_online(&world, "carol", "alice").await);
}

#[tokio::test]
async fn a_reader_with_receipts_off_sends_none() {
    let world = World::new();
    let (alice, bob, chat) = friends(&world).await;
    set_privacy(&world, &bob, json!({ "readReceipts": false })).await;
    let seq = world.sent(&alice, &chat, "did you read this?").await;
    super::super::mark_read(world.ctx(), &bob, request(json!({ "chatId": chat, "upToSeq": seq }))).await.unwrap();
    assert!(!world.kinds(&alice).contains(&"receipt".to_owned()));
}

#[tokio::test]
async fn a_sender_with_receipts_off_gets_none_either() {
    let world = World::new();
    let (alice, bob, chat) = friends(&world).await;
    set_privacy(&world, &alice, json!({ "readReceipts": false })).await;
    let seq = world.sent(&alice, &chat, "hi").await;
    super::super::mark_read(world.ctx(), &bob, request(json!({ "chatId": chat, "upToSeq": seq }))).await.unwrap();
    assert!(!world.kinds(&alice).contains(&"receipt".to_owned()), "reciprocal, as WhatsApp does");
}

#[tokio::test]
async fn privacy_settings_read_back_as_set() {
    let world = World::new();
    let alice = world.person("alice").await;
    let reply = super::super::set_privacy(world.ctx(), &alice, request(json!({ "presence": "contacts" }))).await.unwrap();
    let reply = serde_json::to_value(&reply).unwrap();
    assert_eq!((reply["presence"].as_str(), reply["readReceipts"].as_bool()), (Some("contacts"), Some(true)));
    let reply = super::super::set_privacy(world.ctx(), &alice, request(json!({ "readReceipts": false }))).await.unwrap();
    let reply = serde_json::to_value(&reply).unwrap();
    assert_eq!((reply["presence"].as_str(), reply["readReceipts"].as_bool()), (Some("contacts"), Some(false)), "each setting apart");
}
