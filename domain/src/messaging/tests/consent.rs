//! Consent: a chat from someone the member never accepted is a request;
//! accepting it (or asking for the same chat) makes the asker someone they know.

use serde_json::json;

use super::{World, code, request};
use crate::protocol::ServerFrame;

fn requested(world: &World, chat_id: &str) -> Vec<String> {
    world.fakes.store.memberships_in(chat_id).into_iter().filter(|m| m.request).map(|m| m.user_id).collect()
}

#[tokio::test]
async fn a_chat_from_a_stranger_is_a_request_and_the_creator_is_not_asked() {
    let world = World::new();
    let alice = world.person("alice").await;
    world.person("bob").await;
    let chat = world.direct(&alice, "bob").await;
    assert_eq!(requested(&world, &chat), ["bob"]);
}

#[tokio::test]
async fn accepting_a_request_makes_the_asker_someone_known() {
    let world = World::new();
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    let chat = world.direct(&alice, "bob").await;
    let reply = super::super::accept_chat(world.ctx(), &bob, request(json!({ "chatId": chat }))).await.unwrap();
    assert!(matches!(reply, ServerFrame::ChatAccepted { .. }), "{reply:?}");
    assert!(requested(&world, &chat).is_empty());
    // Alice's next group with bob is no request to him.
    let group = world.group(&alice, &["bob"]).await;
    assert!(requested(&world, &group).is_empty());
}

#[tokio::test]
async fn asking_for_a_chat_someone_requested_with_you_accepts_it() {
    let world = World::new();
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    let chat = world.direct(&alice, "bob").await;
    match world.create(&bob, &["alice"], None).await.unwrap() {
        ServerFrame::ChatCreated { chat_id, created, .. } => assert_eq!((chat_id.as_str(), created), (chat.as_str(), false)),
        other => panic!("{other:?}"),
    }
    assert!(requested(&world, &chat).is_empty());
}

#[tokio::test]
async fn a_group_invites_as_a_request_only_those_who_never_accepted_its_creator() {
    let world = World::new();
    let (alice, bob, _carol) = (world.person("alice").await, world.person("bob").await, world.person("carol").await);
    // Bob asked alice first: alice accepting makes bob known to her, and bob
    // accepted alice by asking.
    let chat = world.direct(&bob, "alice").await;
    super::super::accept_chat(world.ctx(), &alice, request(json!({ "chatId": chat }))).await.unwrap();
    let group = world.group(&alice, &["bob", "carol"]).await;
    assert_eq!(requested(&world, &group), ["carol"]);
}

#[tokio::test]
async fn members_hear_of_a_new_chat_and_the_creating_device_does_not() {
    let world = World::new();
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    let laptop = world.device("alice", "laptop").await;
    world.group(&alice, &["bob"]).await;
    assert_eq!(world.kinds(&bob), ["newChat"]);
    assert_eq!(world.kinds(&laptop), ["newChat"], "the creator's other device too");
    assert!(world.kinds(&alice).is_empty(), "the creating device has the reply");
}

#[tokio::test]
async fn a_chat_needs_someone_else_and_a_group_needs_a_name() {
    let world = World::new();
    let alice = world.person("alice").await;
    assert_eq!(code(world.create(&alice, &["alice"], None).await), "invalid_request");
    assert_eq!(code(world.create(&alice, &["bob", "carol"], None).await), "invalid_request");
    assert_eq!(code(world.create(&alice, &["bob", "carol"], Some("   ")).await), "invalid_request", "a blank name is none");
}

#[tokio::test]
async fn a_chat_with_someone_who_never_signed_in_is_refused_by_name_and_not_created() {
    let world = World::new();
    let alice = world.person("alice").await;
    world.signed_up(&["bob"]).await;
    let refused = world.create_with_anyone(&alice, &["bob", "bobb"], Some("Team")).await;
    match refused {
        Err(error) => {
            assert_eq!(error.code(), "unknown_user");
            assert!(error.to_string().contains("bobb") && !error.to_string().contains("bob,"), "names only the unknown: {error}");
        }
        Ok(frame) => panic!("created {frame:?}"),
    }
    assert_eq!(code(world.create_with_anyone(&alice, &["nobody"], None).await), "unknown_user");
    assert!(world.fakes.store.memberships_in(&crate::ids::direct_chat_id(&alice.user_id, "nobody")).is_empty(), "no chat exists");
}
