//! Live delivery and retries at their edges: a late retry, a connection
//! still connecting, a frame without an action (issue 10).

use e2e_tests::{System, text, unique, unpack};
use serde_json::json;

/// Defect 4: resending an accepted clientMessageId after the recipient acked
/// it put the message back in the recipient's inbox.
#[tokio::test]
async fn a_late_retry_never_brings_back_an_acknowledged_message() {
    let system = System::start().await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    let mut a = system.connect(&alice, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    let chat = a.chat_with(&[&bob], None).await;
    let notice = b.frames_of("newChat", 1).await.remove(0);
    b.request(json!({ "action": "ack", "eventIds": [text(&notice, "eventId")] })).await;

    let sent = a.send_message(&chat, "once-1", "only once").await;
    let got = b.messages(1).await.remove(0);
    b.ack(&[text(&got, "messageId")]).await;
    // Online: a retry posts nothing to a device that acked.
    let again = a.send_message(&chat, "once-1", "only once").await;
    assert_eq!((again["duplicate"].as_bool(), &again["messageId"]), (Some(true), &sent["messageId"]));
    // Offline: nor does it refill the inbox.
    b.close().await;
    assert_eq!(a.send_message(&chat, "once-1", "only once").await["duplicate"], true);
    assert!(system.inbox_of(&bob, "phone").await.is_empty(), "the acked message is not back in the inbox");
    let mut b = system.connect(&bob, "phone").await;
    assert_eq!(b.sync().await["delivered"], 0);

    // A retry still completes what the first attempt did not: a live device
    // that has not acked yet gets the message again.
    let pending = a.send_message(&chat, "twice-2", "not acked").await;
    b.messages(1).await;
    a.send_message(&chat, "twice-2", "not acked").await;
    assert_eq!(b.messages(1).await[0]["messageId"], pending["messageId"]);
}

/// API Gateway answers `PostToConnection` with 410 for a connection whose
/// `$connect` has not finished, though `$connect` already recorded it: a
/// message sent to a device in that instant must not make the server forget
/// the device's (healthy) connection, or every later message waits for its
/// next sync. Found by the burst test under load: a device that reconnected
/// mid-burst got one message and then nothing live.
#[tokio::test]
async fn a_410_on_a_connection_still_connecting_does_not_stop_live_delivery() {
    use local_runtime::faults::{Fault, FaultRule};
    let (system, faults) = System::builder().start_with_faults().await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    let mut a = system.connect(&alice, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    let chat = a.chat_with(&[&bob], None).await;
    faults.set_rules(vec![FaultRule {
        operation: "ApiGatewayManagementApi.PostToConnection".into(),
        fault: Fault::Gone,
        probability: 1.0,
    }]);
    assert_eq!(a.send_message(&chat, "c1", "while connecting").await["status"], "SUCCESS");
    faults.set_rules(Vec::new());
    assert_eq!(a.send_message(&chat, "c2", "after").await["status"], "SUCCESS");
    let live = b.wait_for(|f| f["type"] == "newMessage").await;
    assert_eq!(live["message"], "after", "the next message is posted live: {live}");
    // The first is not lost: it waits in the inbox.
    assert_eq!(b.sync().await["type"], "synced");
    b.wait_for(|f| unpack(f.clone()).iter().any(|m| m["message"] == "while connecting")).await;
}

/// A JSON frame without an `action` is refused as `invalid_request`, as
/// docs/protocol.md says.
#[tokio::test]
async fn a_frame_without_an_action_is_an_invalid_request() {
    let system = System::start().await;
    let mut a = system.connect(&unique("alice"), "phone").await;
    let no_action = a.request(json!({ "chatId": "x" })).await;
    assert_eq!(no_action["code"], "invalid_request", "documented in docs/protocol.md: {no_action}");
}
