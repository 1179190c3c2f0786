//! Offline push through the inbox stream and SNS (moto), read back from moto.

use std::time::Duration;

use e2e_tests::{Client, System, SystemBuilder, eventually, unique};
use serde_json::{Value, json};

/// Collapse window short enough for a test to see a second burst.
fn builder() -> SystemBuilder {
    System::builder().parameters(&[("PushCollapseSeconds", "3")])
}

async fn system() -> System {
    builder().start().await
}

async fn register(client: &mut Client, token: &str) {
    let reply = client.request(json!({ "action": "registerPush", "platform": "GCM", "token": token })).await;
    assert_eq!(reply["type"], "pushRegistered", "{reply}");
}

/// Alice and Bob, both connected, Bob's phone registered for push, and their 1-1 chat.
struct PushPair {
    system: System,
    alice: String,
    bob: String,
    a: Client,
    b: Client,
    chat: String,
}

async fn push_pair() -> PushPair {
    let pair = pair_on(system().await).await;
    // Bob's inbox got the chat's notice: let the push function see it first.
    push_handled(&pair.system, 0, 1).await;
    pair
}

/// The pair on `system`, without waiting for the push function.
async fn pair_on(system: System) -> PushPair {
    let (alice, bob) = (unique("alice"), unique("bob"));
    let mut a = system.connect(&alice, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    register(&mut b, &unique("token")).await;
    let chat = a.chat_with(&[&bob], None).await;
    // Bob knows alice: her chat is no request (requests are pushed without a preview).
    b.accept(&chat).await;
    PushPair { system, alice, bob, a, b, chat }
}

/// The ARN of the platform endpoint SNS holds for `user#phone`.
async fn endpoint_arn(user: &str) -> String {
    let owner = format!("{user}#phone");
    let state = e2e_tests::moto_state().await;
    let endpoint =
        state["sns"]["PlatformEndpoint"].as_array().unwrap().iter().rev().find(|e| e["custom_user_data"] == owner.as_str()).cloned();
    endpoint.expect("the device registered an endpoint")["arn"].as_str().unwrap().to_owned()
}

/// Waits until SNS holds `count` pushes for the device.
async fn pushes(system: &System, user: &str, device: &str, count: usize) -> Vec<Value> {
    eventually(&format!("{count} pushes to {user}/{device}"), || async { system.pushes_to(user, device).await.len() >= count }).await;
    system.pushes_to(user, device).await
}

/// Waits until the push function has handled `count` more inbox records than `before`.
async fn push_handled(system: &System, before: usize, count: usize) {
    eventually(&format!("the push function handles {count} more records"), || async {
        system.records_handled("PushFunction") >= before + count
    })
    .await;
}

#[tokio::test]
async fn an_offline_device_gets_one_push_per_burst_with_a_preview_and_none_while_online() {
    let PushPair { system, alice, bob, mut a, mut b, chat } = push_pair().await;

    let handled = system.records_handled("PushFunction");
    a.send_message(&chat, "online", "you are online").await;
    b.messages(1).await;
    push_handled(&system, handled, 1).await;
    assert!(system.pushes_to(&bob, "phone").await.is_empty(), "no push while the device is connected");

    b.close().await;
    let handled = system.records_handled("PushFunction");
    for (i, word) in ["one", "two", "three"].iter().enumerate() {
        a.send_message(&chat, &format!("burst{i}"), word).await;
    }
    let got = pushes(&system, &bob, "phone", 1).await;
    let first_push_at = std::time::Instant::now();
    push_handled(&system, handled, 3).await;
    let got_later = system.pushes_to(&bob, "phone").await;
    assert_eq!(got_later.len(), 1, "one push for the burst: {got:?}");
    assert_eq!(got[0]["default"], format!("{alice}: three (+2 more)"));
    let gcm: Value = serde_json::from_str(got[0]["GCM"].as_str().unwrap()).unwrap();
    assert_eq!(gcm["data"]["count"], 3);

    // Muted: after the collapse window, the next push says only that something came.
    let mut b = system.connect(&bob, "phone").await;
    assert_eq!(b.request(json!({ "action": "muteChat", "chatId": chat, "muted": true })).await["muted"], true);
    b.close().await;
    // Past the 3-second collapse window of the burst's push.
    eventually("the collapse window passes", || async { first_push_at.elapsed() > Duration::from_millis(3100) }).await;
    a.send_message(&chat, "secret", "the secret plan").await;
    let got = pushes(&system, &bob, "phone", 2).await;
    assert_eq!(got.len(), 2);
    // (moto keeps an endpoint's messages by random id: compare as a set)
    let texts: Vec<&str> = got.iter().map(|p| p["default"].as_str().unwrap()).collect();
    assert!(texts.contains(&"New message"), "a muted chat's push shows no content: {texts:?}");
    assert!(!texts.iter().any(|t| t.contains("secret")), "{texts:?}");
}

/// A message deleted for everyone before its push went out is not pushed,
/// nor a reaction to it. The push function's batching window (2 s in the
/// template, 10 s here so a busy machine deletes within it) holds the
/// message's record while the sender deletes it.
#[tokio::test]
async fn a_message_deleted_before_its_push_is_not_pushed() {
    let template = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml")).unwrap();
    let window =
        "            # Messages of a burst arrive in one batch and become one push.\n            MaximumBatchingWindowInSeconds: 2\n";
    assert!(template.contains(window), "the push function's batching window moved");
    let template = template.replace(window, "            MaximumBatchingWindowInSeconds: 10\n");
    let PushPair { system, alice, bob, mut a, mut b, chat } = pair_on(builder().template(&template).start().await).await;
    let kept = b.send_message(&chat, "kept", "bob's own").await;
    b.close().await;

    a.send_message(&chat, "oops", "the secret plan").await;
    let reaction = a.request(json!({ "action": "react", "chatId": chat, "seq": kept["seq"], "emoji": "🤫" })).await;
    assert_eq!(reaction["type"], "messageChanged", "{reaction}");
    let deleted = a.request(json!({ "action": "deleteMessage", "chatId": chat, "seq": 2, "forEveryone": true })).await;
    assert_eq!(deleted["change"], "deleted", "{deleted}");
    // Bob deletes his own from another device (his phone stays offline).
    let mut laptop = system.connect(&bob, "laptop").await;
    let own = laptop.request(json!({ "action": "deleteMessage", "chatId": chat, "seq": kept["seq"], "forEveryone": true })).await;
    assert_eq!(own["change"], "deleted", "{own}");
    laptop.close().await;
    // A later message is pushed: the records before it were handled by then.
    a.send_message(&chat, "after", "see you").await;
    let pushed = pushes(&system, &bob, "phone", 1).await;
    let texts: Vec<&str> = pushed.iter().map(|p| p["default"].as_str().unwrap_or_default()).collect();
    assert_eq!(texts, [format!("{alice}: see you")], "only what is still there is pushed: {pushed:?}");
}

/// A device registering a token while the device that held it unregisters:
/// the endpoint SNS names may be deleted before it is taken over. Both
/// answer as asked (this answered `internal` 8 times in 8).
#[tokio::test]
async fn registering_a_token_while_its_holder_unregisters_it_succeeds() {
    let system = system().await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    let mut a = system.connect(&alice, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    for _ in 0..8 {
        let token = unique("token");
        register(&mut b, &token).await;
        let (registered, unregistered) = tokio::join!(
            a.request(json!({ "action": "registerPush", "platform": "GCM", "token": token })),
            b.request(json!({ "action": "unregisterPush" }))
        );
        assert_eq!(registered["type"], "pushRegistered", "{registered}");
        assert_eq!(unregistered["type"], "pushUnregistered", "{unregistered}");
    }
}

#[tokio::test]
async fn a_disabled_endpoint_is_removed() {
    let PushPair { system, alice: _, bob, mut a, b, chat } = push_pair().await;
    b.close().await;

    // SNS disables an endpoint when the platform reports the token invalid.
    let sns = system.sns().await;
    let arn = endpoint_arn(&bob).await;
    sns.set_endpoint_attributes().endpoint_arn(&arn).attributes("Enabled", "false").send().await.unwrap();

    a.send_message(&chat, "m1", "anyone there?").await;
    // (The endpoint is deleted first, then forgotten: wait for both, as on a busy machine.)
    eventually("the disabled endpoint is deleted", || async { sns.get_endpoint_attributes().endpoint_arn(&arn).send().await.is_err() })
        .await;
    eventually("the device forgets its endpoint", || async {
        let user = system
            .dynamo()
            .await
            .get_item()
            .table_name(system.table("UsersTable"))
            .key("userId", aws_sdk_dynamodb::types::AttributeValue::S(bob.clone()))
            .consistent_read(true)
            .send()
            .await
            .unwrap();
        let device = user.item.unwrap()["devices"].as_m().unwrap()["phone"].as_m().unwrap().clone();
        !device.contains_key("push")
    })
    .await;
}

#[tokio::test]
async fn a_failing_push_retries_only_its_own_record() {
    // One batch per shard at a time, so both messages share a batch (with
    // the template's ParallelizationFactor the two devices' records are
    // batched apart, and a failure could not touch the other anyway).
    let template = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml")).expect("template");
    let system = builder().template(&template.replace("ParallelizationFactor: 10", "ParallelizationFactor: 1")).start().await;
    let [alice, bob, carol] = ["alice", "bob", "carol"].map(unique);
    let mut a = system.connect(&alice, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    let mut c = system.connect(&carol, "phone").await;
    register(&mut b, &unique("token")).await;
    register(&mut c, &unique("token")).await;
    let to_bob = a.chat_with(&[&bob], None).await;
    let to_carol = a.chat_with(&[&carol], None).await;
    // The two chats' notices reach the push function first (no push: not messages).
    push_handled(&system, 0, 2).await;
    let earlier = system.runtime.invocations().into_iter().filter(|i| i.function == "PushFunction").count();
    b.close().await;
    c.close().await;
    // Carol's endpoint vanishes behind our back: publishing to it fails (not "disabled").
    system.sns().await.delete_endpoint().endpoint_arn(endpoint_arn(&carol).await).send().await.unwrap();

    a.send_message(&to_bob, "b1", "for bob").await;
    a.send_message(&to_carol, "c1", "for carol").await;
    assert_eq!(pushes(&system, &bob, "phone", 1).await.len(), 1);
    let push_runs = || system.runtime.invocations().into_iter().filter(|i| i.function == "PushFunction").skip(earlier).collect::<Vec<_>>();
    eventually("the failed record is retried", || async { push_runs().len() >= 2 }).await;

    let runs = push_runs();
    assert_eq!(runs[0].records, 2, "first batch: both messages");
    assert!(
        runs[1..].iter().all(|r| r.records == 1),
        "retries carry only carol's record: {:?}",
        runs.iter().map(|r| r.records).collect::<Vec<_>>()
    );
    assert_eq!(system.pushes_to(&bob, "phone").await.len(), 1, "bob's push was not repeated");
}

#[tokio::test]
async fn an_unknown_push_platform_is_refused() {
    let system = system().await;
    let mut client = system.connect(&unique("user"), "phone").await;
    let reply = client.request(json!({ "action": "registerPush", "platform": "PIGEON", "token": "t" })).await;
    assert_eq!(reply["code"], "push_unavailable");
}

#[tokio::test]
async fn after_unregister_push_an_offline_device_gets_no_push_and_its_endpoint_is_gone() {
    let PushPair { system, alice: _, bob, mut a, mut b, chat } = push_pair().await;
    let arn = endpoint_arn(&bob).await;
    assert_eq!(b.request(json!({ "action": "unregisterPush" })).await["type"], "pushUnregistered");
    assert!(system.sns().await.get_endpoint_attributes().endpoint_arn(&arn).send().await.is_err(), "the endpoint is deleted");
    b.close().await;

    let handled = system.records_handled("PushFunction");
    a.send_message(&chat, "after-logout", "are you there?").await;
    push_handled(&system, handled, 1).await;
    assert!(system.pushes_to(&bob, "phone").await.is_empty(), "a logged-out device gets no push");
}

#[tokio::test]
async fn a_new_token_replaces_the_device_endpoint_and_the_old_one_is_deleted() {
    let PushPair { system, alice: _, bob, a: _, mut b, chat: _ } = push_pair().await;
    let first = endpoint_arn(&bob).await;
    register(&mut b, &unique("rotated")).await;
    let second = endpoint_arn(&bob).await;
    assert_ne!(first, second);
    let sns = system.sns().await;
    assert!(sns.get_endpoint_attributes().endpoint_arn(&first).send().await.is_err(), "the old endpoint is deleted");
    assert!(sns.get_endpoint_attributes().endpoint_arn(&second).send().await.is_ok(), "the new one is kept");
    // Registering the same token again keeps its endpoint.
    let state = e2e_tests::moto_state().await;
    let token = state["sns"]["PlatformEndpoint"].as_array().unwrap().iter().find(|e| e["arn"] == second.as_str()).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    register(&mut b, &token).await;
    assert!(sns.get_endpoint_attributes().endpoint_arn(&second).send().await.is_ok());
}

/// A push token another user registers (the phone changed hands) moves to
/// that user cleanly: the first user's device no longer claims the endpoint,
/// and the first user unregistering push does not delete the new owner's
/// endpoint (issue 13).
#[tokio::test]
async fn a_token_registered_by_another_user_moves_to_them_and_the_first_cannot_delete_it() {
    let system = system().await;
    let (bob, carol) = (unique("bob"), unique("carol"));
    let mut b = system.connect(&bob, "phone").await;
    let mut c = system.connect(&carol, "phone").await;
    let token = unique("shared-phone");
    register(&mut b, &token).await;
    let endpoint = endpoint_arn(&bob).await;
    register(&mut c, &token).await;
    assert_eq!(endpoint_arn(&carol).await, endpoint, "the same token keeps its endpoint, now carol's");

    let devices = b.request(json!({ "action": "listDevices" })).await;
    assert_eq!(devices["devices"][0]["pushPlatform"], Value::Null, "bob's phone no longer receives on it: {devices}");
    let unregistered = b.request(json!({ "action": "unregisterPush" })).await;
    assert_eq!(unregistered["type"], "pushUnregistered", "{unregistered}");
    let attributes = system.sns().await.get_endpoint_attributes().endpoint_arn(&endpoint).send().await;
    let owner = attributes.expect("carol's endpoint still exists").attributes.unwrap_or_default().remove("CustomUserData");
    assert_eq!(owner, Some(format!("{carol}#phone")));
    let devices = c.request(json!({ "action": "listDevices" })).await;
    assert_eq!(devices["devices"][0]["pushPlatform"], "GCM", "{devices}");
}

/// The functions' SNS grants name the stack's own platform applications
/// (ApnsPlatformApplicationName, GcmPlatformApplicationName): another
/// application in the account, and its endpoints, are out of their reach.
#[tokio::test]
async fn functions_reach_only_the_stacks_own_platform_applications() {
    let system = system().await;
    let mut bob = system.connect(&unique("bob"), "phone").await;
    register(&mut bob, &unique("own-token")).await;

    let admin = system.sns().await;
    let other_app = admin
        .create_platform_application()
        .name(unique("another-team"))
        .platform("GCM")
        .attributes("PlatformCredential", "theirs")
        .send()
        .await
        .unwrap()
        .platform_application_arn
        .unwrap();
    let other_endpoint =
        admin.create_platform_endpoint().platform_application_arn(&other_app).token(unique("their-token")).send().await.unwrap();
    let other_endpoint = other_endpoint.endpoint_arn.unwrap();

    let as_register = aws_sdk_sns::Client::new(&system.function_sdk("RegisterPushFunction"));
    let created = as_register.create_platform_endpoint().platform_application_arn(&other_app).token(unique("mine")).send().await;
    let code = created.map_err(|e| e.into_service_error().meta().code().map(str::to_owned)).err().flatten();
    assert_eq!(code.as_deref(), Some("AuthorizationError"), "RegisterPushFunction may not add endpoints to another application");
    for function in ["PushFunction", "UnregisterPushFunction", "UnregisterDeviceFunction"] {
        let sns = aws_sdk_sns::Client::new(&system.function_sdk(function));
        let deleted = sns.delete_endpoint().endpoint_arn(&other_endpoint).send().await;
        let code = deleted.map_err(|e| e.into_service_error().meta().code().map(str::to_owned)).err().flatten();
        assert_eq!(code.as_deref(), Some("AuthorizationError"), "{function} may not delete another application's endpoint");
    }
    let still_there = admin.get_endpoint_attributes().endpoint_arn(&other_endpoint).send().await;
    assert!(still_there.is_ok(), "the other application's endpoint is untouched");
}

/// A message request is pushed without a preview: a stranger's text does not
/// reach the lock screen before the recipient accepts them (issue 13).
#[tokio::test]
async fn a_message_request_is_pushed_without_a_preview() {
    let system = system().await;
    let (stranger, bob) = (unique("stranger"), unique("bob"));
    let mut s = system.connect(&stranger, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    register(&mut b, &unique("token")).await;
    b.close().await;
    let chat = s.chat_with(&[&bob], None).await;
    s.send_message(&chat, "spam", "buy cheap watches").await;
    let got = pushes(&system, &bob, "phone", 1).await;
    let text = got[0]["default"].as_str().unwrap();
    assert!(!text.contains("watches") && !text.contains(&stranger), "no preview of a request: {text}");
}

#[tokio::test]
async fn a_reaction_is_pushed_to_the_offline_sender_of_the_message() {
    let PushPair { system, alice, bob, mut a, mut b, chat } = push_pair().await;
    let sent = b.send_message(&chat, "m1", "dinner at mine").await;
    a.messages(1).await;
    b.close().await;
    let handled = system.records_handled("PushFunction");
    let reacted = a.request(json!({ "action": "react", "chatId": chat, "seq": sent["seq"], "emoji": "🎉" })).await;
    assert_eq!(reacted["type"], "messageChanged", "{reacted}");
    let got = pushes(&system, &bob, "phone", 1).await;
    assert_eq!(got[0]["default"], format!("{alice}: reacted 🎉 to your message"));
    // Removing it is no news.
    push_handled(&system, handled, 1).await;
    let handled = system.records_handled("PushFunction");
    a.request(json!({ "action": "react", "chatId": chat, "seq": sent["seq"], "emoji": null })).await;
    push_handled(&system, handled, 1).await;
    assert_eq!(system.pushes_to(&bob, "phone").await.len(), 1, "a removed reaction is not pushed");
}
