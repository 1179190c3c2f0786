//! The local system refuses what AWS would refuse: a call the template's IAM
//! policy does not grant, a missing S3 key to a caller that may not list the
//! bucket, an invocation past the function's `Timeout` or over Lambda's 6 MB
//! payload limit. A backend throttling past the SDK retries is told to the
//! client as retryable.

use std::time::Duration;

use e2e_tests::*;
use local_runtime::faults::{Fault, FaultRule, Faults};
use local_runtime::repository_template;
use serde_json::json;

fn template() -> String {
    std::fs::read_to_string(repository_template()).expect("template.yaml")
}

/// Where `function`'s resource begins and ends in the template text.
fn resource_span(template: &str, function: &str) -> (usize, usize) {
    let start = template.find(&format!("\n  {function}:\n")).unwrap_or_else(|| panic!("{function} in the template")) + 1;
    let body = &template[start..];
    // It ends where the next top-level resource begins.
    let end = body
        .match_indices("\n  ")
        .find(|(i, _)| body[i + 3..].starts_with(|c: char| c.is_ascii_alphabetic()))
        .map_or(body.len(), |(i, _)| i);
    (start, start + end)
}

/// Replaces `old` (exact YAML lines, found once) by `new` within `function`'s resource only.
fn in_function(template: &str, function: &str, old: &str, new: &str) -> String {
    let (start, end) = resource_span(template, function);
    let resource = &template[start..end];
    assert_eq!(resource.matches(old).count(), 1, "{function} has this once:\n{old}");
    format!("{}{}{}", &template[..start], resource.replacen(old, new, 1), &template[end..])
}

fn without_statement(template: &str, function: &str, statement: &str) -> String {
    in_function(template, function, statement, "")
}

const MESSAGES_PUT: &str = "            - Effect: Allow
              Action: [dynamodb:PutItem, dynamodb:GetItem, dynamodb:Query]
              Resource: !GetAtt MessagesTable.Arn
";

const MEDIA_GET: &str = "            - Effect: Allow
              Action: s3:GetObject
              Resource: !Sub \"${MediaBucket.Arn}/media/*\"
";

#[tokio::test]
async fn a_statement_removed_from_the_template_fails_its_path_with_access_denied() {
    // sendMessage without PutItem on the Messages table: the send fails, nothing is delivered.
    let system = System::builder().template(&without_statement(&template(), "SendMessageFunction", MESSAGES_PUT)).start().await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    let mut a = system.connect(&alice, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    let chat = a.chat_with(&[&bob], None).await;
    let sent = a.send_message(&chat, "m1", "hello").await;
    assert_ne!(sent["status"], "SUCCESS", "a send without permission to store the message cannot succeed: {sent}");
    assert_eq!(sent["type"], "error", "{sent}");
    let denials = system.runtime.iam_denials();
    let denial =
        denials.iter().find(|d| d.function == "SendMessageFunction").unwrap_or_else(|| panic!("IAM refused sendMessage: {denials:?}"));
    assert_eq!(denial.action, "dynamodb:PutItem");
    assert!(denial.resource.starts_with("arn:aws:dynamodb:") && denial.resource.ends_with("-MessagesTable"), "{denial:?}");
    let frames = b.drain(Duration::from_millis(500)).await;
    assert!(!frames.iter().any(|f| f["type"] == "message"), "nothing was delivered: {frames:?}");
    assert!(denials.iter().all(|d| d.function == "SendMessageFunction"), "only the changed function is refused: {denials:?}");

    // getAttachment without s3:GetObject: its presigned download is refused by S3, 403 AccessDenied.
    let system = System::builder().template(&without_statement(&template(), "GetAttachmentFunction", MEDIA_GET)).start().await;
    let mut a = system.connect(&alice, "phone").await;
    let chat = a.chat_with(&[&bob], None).await;
    let attachment = upload(&system.http(&alice), &chat, &image(4096, 1)).await;
    let sent = send_with(&mut a, &chat, &[&attachment]).await;
    assert_eq!(sent["status"], "SUCCESS", "{sent}");
    let download = system.http(&bob).get(&format!("/chats/{chat}/attachments/{attachment}")).await;
    assert_eq!(download.status, 200, "signing needs no permission: {}", download.body);
    let response = reqwest::get(text(&download.body, "url")).await.expect("S3 answers");
    assert_eq!(response.status().as_u16(), 403);
    let body = response.text().await.unwrap_or_default();
    assert!(body.contains("<Code>AccessDenied</Code>"), "{body}");
    let denials = system.runtime.iam_denials();
    assert_eq!(denials.len(), 1, "{denials:?}");
    assert_eq!((denials[0].function.as_str(), denials[0].action.as_str()), ("GetAttachmentFunction", "s3:GetObject"));
    assert!(denials[0].resource.ends_with(&format!("/media/{attachment}")), "{denials:?}");
}

#[tokio::test]
async fn the_repository_template_grants_every_call_a_conversation_makes() {
    let system = System::start().await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    let mut a = system.connect(&alice, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    let chat = a.chat_with(&[&bob], Some("granted")).await;
    let attachment = upload(&system.http(&alice), &chat, &image(4096, 2)).await;
    assert_eq!(send_with(&mut a, &chat, &[&attachment]).await["status"], "SUCCESS");
    let message = b.messages(1).await.remove(0);
    b.ack(&[text(&message, "messageId")]).await;
    let download = system.http(&bob).get(&format!("/chats/{chat}/attachments/{attachment}")).await;
    assert_eq!(get_presigned(text(&download.body, "url")).await.0, 200);
    assert_eq!(system.http(&bob).get("/chats").await.status, 200);
    assert_eq!(system.http(&bob).get(&format!("/chats/{chat}/messages")).await.status, 200);
    system.runtime.run_scheduled("CleanupFunction").await.expect("the cleanup runs");
    assert_eq!(system.runtime.iam_denials(), vec![], "the template grants what the functions call");
}

#[tokio::test]
async fn s3_answers_a_missing_key_with_403_unless_the_caller_may_list_the_bucket() {
    let missing_key_status = |system: &System| {
        let ctx = system.function_context("SendMessageFunction");
        let s3 = aws_sdk_s3::Client::new(&system.function_sdk("SendMessageFunction"));
        async move {
            let head = s3.head_object().bucket(&ctx.config.media_bucket).key("media/never-uploaded").send().await;
            head.err().and_then(|e| e.raw_response().map(|r| r.status().as_u16()))
        }
    };
    let system = System::start().await;
    assert_eq!(missing_key_status(&system).await, Some(403), "without s3:ListBucket a missing key is 403");

    let may_list = "            - Effect: Allow
              Action: s3:ListBucket
              Resource: !GetAtt MediaBucket.Arn
";
    let template = in_function(&template(), "SendMessageFunction", "          Statement:\n", &format!("          Statement:\n{may_list}"));
    let system = System::builder().template(&template).start().await;
    assert_eq!(missing_key_status(&system).await, Some(404), "with s3:ListBucket S3 says the key does not exist");
}

/// Lambda stops a function at its `Timeout`; so does the local runtime.
/// `$connect` runs to its end (a refused handshake is its own answer), so a
/// stalled one is cut off: the client's handshake fails as API Gateway's does.
#[tokio::test]
async fn an_invocation_past_its_timeout_is_cut_off_as_lambda_cuts_it() {
    let faults = std::sync::Arc::new(Faults::default());
    let template = in_function(&template(), "ConnectFunction", "      Handler: connect\n", "      Handler: connect\n      Timeout: 1\n");
    let system = System::builder().template(&template).faults(faults.clone()).start().await;
    faults.set_rules(vec![FaultRule {
        operation: "DynamoDB.PutItem".into(),
        fault: Fault::Stall(Duration::from_secs(3)),
        probability: 1.0,
    }]);
    let token = system.runtime.issue_token(&unique("alice"), "phone");
    let refused = Client::open(&system.url_with_token(&token)).await.err();
    assert_eq!(refused, Some(500), "API Gateway's answer to a failed $connect");
    let invocations = system.runtime.invocations();
    let timed_out = invocations.iter().find(|i| i.function == "ConnectFunction").expect("$connect was invoked");
    assert_eq!(timed_out.error.as_deref(), Some("Task timed out after 1.00 seconds"));
    assert!(timed_out.duration < Duration::from_secs(3), "cut off at its timeout, not left to finish: {:?}", timed_out.duration);
}

/// A route runs out of time before its function does: it answers a typed,
/// retryable `unavailable` with the request's `requestId` (not API Gateway's
/// `Internal server error`, which carries none), and a retry with the same
/// `clientMessageId` lands once.
#[tokio::test]
async fn a_route_out_of_time_answers_unavailable_with_its_request_id_and_the_retry_lands_once() {
    let faults = std::sync::Arc::new(Faults::default());
    let template = in_function(&template(), "SendMessageFunction", "      Timeout: 15\n", "      Timeout: 3\n");
    let system = System::builder().template(&template).faults(faults.clone()).start().await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    let mut a = system.connect(&alice, "phone").await;
    let chat = a.chat_with(&[&bob], None).await;
    // DynamoDB stalls for 20 s: longer than the function may run.
    faults.set_rules(vec![FaultRule {
        operation: "DynamoDB.PutItem:MessagesTable".into(),
        fault: Fault::Stall(Duration::from_secs(20)),
        probability: 1.0,
    }]);
    let send = json!({ "action": "sendMessage", "chatId": chat, "clientMessageId": "slow", "message": "x" });
    let answer = a.request(send.clone()).await;
    assert_eq!((answer["code"].as_str(), answer["retryAfter"].as_u64()), (Some("unavailable"), Some(1)), "{answer}");
    let invocation = system.runtime.invocations().into_iter().find(|i| i.function == "SendMessageFunction").expect("the send ran");
    assert_eq!(invocation.error, None, "it answered before Lambda would have cut it off: {invocation:?}");
    assert!(invocation.duration < Duration::from_secs(3), "{:?}", invocation.duration);

    faults.set_rules(Vec::new());
    let retried = a.request(send).await;
    assert_eq!(retried["status"], "SUCCESS", "{retried}");
    let page = system.http(&alice).get(&format!("/chats/{chat}/messages")).await.body;
    assert_eq!(page["messages"].as_array().map(Vec::len), Some(1), "stored once: {page}");
}

#[tokio::test]
async fn an_event_over_six_megabytes_never_reaches_the_function() {
    let system = System::start().await;
    let alice = unique("alice");
    let mut a = system.connect(&alice, "phone").await;
    let chat = a.chat_with(&[&unique("bob")], None).await;
    // Under the HTTP API's 10 MB, over Lambda's 6 MB.
    let body = format!("{{\"fileName\":\"{}\"}}", "x".repeat(7 * 1024 * 1024));
    let reply = system.http(&alice).post_text(&format!("/chats/{chat}/attachments"), body).await;
    assert_eq!(reply.status, 500, "{}", reply.body);
    assert_eq!(reply.body["message"], "Internal Server Error");
    let invocations = system.runtime.invocations();
    let refused = invocations.iter().find(|i| i.function == "CreateAttachmentFunction").expect("an invocation was attempted");
    assert!(refused.error.as_deref().is_some_and(|e| e.starts_with("RequestEntityTooLargeException")), "{refused:?}");
    assert_eq!(refused.calls.total(), 0, "no code ran");
}

#[tokio::test]
async fn a_denied_call_fails_as_the_sdk_sees_it_from_aws() {
    use aws_sdk_dynamodb::error::ProvideErrorMetadata;
    let system = System::start().await;
    // The $default route's function is granted nothing.
    let ctx = system.function_context("DefaultFunction");
    let users = system.table("UsersTable");
    let read = aws_sdk_dynamodb::Client::new(&system.function_sdk("DefaultFunction"))
        .get_item()
        .table_name(&users)
        .key("userId", aws_sdk_dynamodb::types::AttributeValue::S("x".into()))
        .send()
        .await;
    assert_eq!(read.err().and_then(|e| e.code().map(str::to_owned)).as_deref(), Some("AccessDeniedException"));
    let publish = aws_sdk_sns::Client::new(&system.function_sdk("DefaultFunction"))
        .publish()
        .target_arn("arn:aws:sns:us-east-1:123456789012:endpoint/GCM/app/x")
        .message("m")
        .send()
        .await;
    assert_eq!(publish.err().and_then(|e| e.code().map(str::to_owned)).as_deref(), Some("AuthorizationError"));
    // Only the authorizers may read the signing key.
    let authorizer = system.function_context("AuthorizerFunction");
    let secret = authorizer.config.jwt_secret_arn.clone().expect("the authorizer is given the secret");
    let read_key = ctx.secrets.secret_string(&secret).await;
    assert!(
        matches!(&read_key, Err(domain::secrets::SecretError::Unavailable(why)) if why.contains("AccessDeniedException")),
        "{read_key:?}"
    );
    assert!(authorizer.signing_key().await.is_ok());
    // An authorizer reads the Users table and may not write it.
    let write = aws_sdk_dynamodb::Client::new(&system.function_sdk("AuthorizerFunction"))
        .delete_item()
        .table_name(&users)
        .key("userId", aws_sdk_dynamodb::types::AttributeValue::S("x".into()))
        .send()
        .await;
    assert_eq!(write.err().and_then(|e| e.code().map(str::to_owned)).as_deref(), Some("AccessDeniedException"));
}

/// DynamoDB throttling that outlasts the SDK's retries reaches the client as
/// the retryable `unavailable` (503 over HTTP), not as `internal`; the same
/// send retried once the table recovers is delivered exactly once.
#[tokio::test]
async fn throttling_past_the_sdk_retries_is_a_retryable_error_and_the_retry_lands_once() {
    let (system, faults) = System::builder().start_with_faults().await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    let mut a = system.connect(&alice, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    let chat = a.chat_with(&[&bob], None).await;
    faults.set_rules(vec![FaultRule { operation: "DynamoDB.GetItem".into(), fault: Fault::Throttle, probability: 1.0 }]);
    let refused = a.send_message(&chat, "m1", "hello").await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["code"], "unavailable", "{refused}");
    faults.set_rules(Vec::new());
    let sent = a.send_message(&chat, "m1", "hello").await;
    assert_eq!(sent["type"], "sendResult", "{sent}");
    let got = b.wait_for(|f| f["type"] == "newMessage").await;
    assert_eq!(got["message"], "hello");
    assert_eq!(got["seq"], 1, "the refused attempt took no seq");

    // Over HTTP: a Query (the authorizer's GetItem would fail the
    // authorizer, which API Gateway answers with a bare 500).
    faults.set_rules(vec![FaultRule { operation: "DynamoDB.Query".into(), fault: Fault::Throttle, probability: 1.0 }]);
    let page = system.http(&alice).get(&format!("/chats/{chat}/messages")).await;
    assert_eq!((page.status, page.body["code"].as_str()), (503, Some("unavailable")), "{}", page.body);
}

/// The smoke test of the mode the benchmark runs in: every function is its
/// own process polling the local Lambda Runtime API, started on demand (a
/// cold start), reused while warm, killed past its `Timeout` or its
/// `MemorySize`, its AWS calls read from its own log line.
#[tokio::test]
async fn functions_run_as_their_own_processes_behind_the_runtime_api() {
    let faults = std::sync::Arc::new(Faults::default());
    // Short enough to wait out, long enough that a cold debug $connect on a
    // busy two-core machine is not cut off (1 s was: CI saw a cold send time out).
    let template = in_function(&template(), "ConnectFunction", "      Handler: connect\n", "      Handler: connect\n      Timeout: 5\n");
    // The other functions get API Gateway's most (29 s) instead of the
    // template's 10: debug binaries starting cold on a busy machine are not
    // what this test is about, and must not time out.
    let globals = "    # API Gateway gives a WebSocket integration at most 29 s.\n    Timeout: 10\n";
    assert!(template.contains(globals), "the template's default Timeout moved");
    let template = template.replace(globals, "    Timeout: 29\n");
    // Below any Rust process's resident memory: every invocation goes over it.
    let template = in_function(&template, "ListDevicesFunction", "      CodeUri: .\n", "      CodeUri: .\n      MemorySize: 1\n");
    let system = System::builder().template(&template).processes("debug").faults(faults.clone()).start().await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    let mut a = system.connect(&alice, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    let chat = a.chat_with(&[&bob], None).await;
    let sends = || system.runtime.invocations().into_iter().filter(|i| i.function == "SendMessageFunction").collect::<Vec<_>>();

    for (n, text) in ["one", "two"].into_iter().enumerate() {
        let sent = a.send_message(&chat, &format!("c{n}"), text).await;
        assert_eq!(sent["status"], "SUCCESS", "{sent}");
        let got = b.messages(1).await.remove(0);
        assert_eq!(got["message"], text);
    }
    let [first, second] = &sends()[..] else { panic!("two sends: {:?}", sends()) };
    assert!(first.init.is_some_and(|init| init > Duration::ZERO), "the first send started an environment: {first:?}");
    assert!(second.init.is_none(), "the second found it warm: {second:?}");
    assert!(first.peak_rss_kb.is_some_and(|kb| kb > 1024), "its memory is measured: {first:?}");
    assert_eq!(first.calls.count("PutItem"), 2, "its AWS calls come from its log (its claim and its message): {first:?}");
    assert!(first.calls.write_units > 0.0, "with the units DynamoDB reported: {first:?}");

    // $connect runs to its end: a stalled one is cut off at its Timeout, and
    // its environment with it.
    faults.set_rules(vec![FaultRule {
        operation: "DynamoDB.PutItem".into(),
        fault: Fault::Stall(Duration::from_secs(60)),
        probability: 1.0,
    }]);
    let connects = || system.runtime.invocations().into_iter().filter(|i| i.function == "ConnectFunction").collect::<Vec<_>>();
    let token = system.runtime.issue_token(&unique("carol"), "phone");
    assert_eq!(Client::open(&system.url_with_token(&token)).await.err(), Some(500));
    let timed_out = connects().pop().expect("the stalled connect");
    assert_eq!(timed_out.error.as_deref(), Some("Task timed out after 5.00 seconds"));
    assert!(timed_out.duration < Duration::from_secs(60), "cut off at its timeout, not the stall: {:?}", timed_out.duration);
    faults.set_rules(Vec::new());
    let _c = system.connect(&unique("carol"), "phone").await;
    let after = connects().pop().expect("the connect after");
    assert!(after.init.is_some(), "the timed-out environment was killed, so this one started cold: {after:?}");

    a.send(json!({ "action": "listDevices", "requestId": "over-memory" })).await;
    a.wait_for(|f| f["message"] == "Internal server error").await;
    let killed = system.runtime.invocations().into_iter().find(|i| i.function == "ListDevicesFunction").expect("listDevices ran");
    assert!(killed.error.as_deref().is_some_and(|e| e.contains("Runtime.OutOfMemory")), "{killed:?}");
}
