//! The client library as a developer gets it (issue 28): `npm pack` in
//! `clients/js`, the tarball installed into an empty folder beside `ws`
//! (Node 20 has no WebSocket of its own), and the Node example of the
//! library's README — taken from the README as written — run against the
//! whole local system: two users exchange a message, and a bad token is
//! refused with a typed error, not a crash.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use e2e_tests::{System, unique};
use tokio::process::Command;

/// The `ws` release the test installs (the WebSocket a Node 20 app passes in).
const WS_PACKAGE: &str = "ws@8.18.3";

fn client_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../clients/js")
}

/// The first `js` block of the README that names itself `node-example.mjs`.
fn readme_node_example() -> String {
    let readme = std::fs::read_to_string(client_dir().join("README.md")).expect("the client's README");
    let blocks = readme.split("```js\n").skip(1).filter_map(|rest| rest.split("\n```").next());
    let example = blocks.into_iter().find(|block| block.starts_with("// node-example.mjs")).expect("a node-example.mjs block");
    example.to_owned()
}

/// Runs `program args` in `dir`, failing the test with its output if it fails.
async fn run(dir: &Path, program: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut command = Command::new(program);
    command.args(args).current_dir(dir).stdin(Stdio::null()).kill_on_drop(true);
    for (name, value) in env {
        command.env(name, value);
    }
    let output = tokio::time::timeout(Duration::from_secs(300), command.output())
        .await
        .unwrap_or_else(|_| panic!("{program} {args:?} did not finish in 300 s"))
        .unwrap_or_else(|e| panic!("{program} could not start: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{program} {args:?} failed ({}):\n{stdout}\n{stderr}", output.status);
    stdout
}

#[tokio::test]
async fn the_packed_client_installs_into_an_empty_folder_and_its_readme_node_example_chats_and_survives_a_bad_token() {
    let system = System::builder().web().start().await;
    let app_url = system.runtime.web_url().expect("the web app is served");
    let folder = std::env::temp_dir().join(unique("sdk-install"));
    std::fs::create_dir_all(&folder).expect("an empty folder");
    let folder_arg = folder.to_str().expect("a UTF-8 path");

    let packed = run(&client_dir(), "npm", &["pack", "--silent", "--pack-destination", folder_arg], &[]).await;
    let tarball = packed.lines().last().expect("npm pack names its tarball").trim().to_owned();
    assert!(tarball.ends_with(".tgz"), "{packed}");
    let tarball_path = format!("./{tarball}");
    // An app of its own: installs the tarball as any package would be installed.
    std::fs::write(folder.join("package.json"), r#"{"name": "sdk-install-test", "private": true, "type": "module"}"#)
        .expect("package.json");
    run(&folder, "npm", &["install", "--no-audit", "--no-fund", "--silent", &tarball_path, WS_PACKAGE], &[]).await;
    let installed = folder.join("node_modules/@serverless-chat/client");
    for file in ["package.json", "README.md", "src/index.js", "src/index.d.ts", "src/protocol.d.ts", "src/file-outbox.js"] {
        assert!(installed.join(file).is_file(), "the package ships {file}");
    }
    assert!(!installed.join("test").exists(), "the package leaves its tests out");

    std::fs::write(folder.join("node-example.mjs"), readme_node_example()).expect("the example");
    let out = run(&folder, "node", &["node-example.mjs"], &[("APP_URL", &app_url)]).await;
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.iter().any(|l| l.starts_with("alice sent seq ")), "{out}");
    assert!(lines.contains(&"bob received: hello from Node"), "{out}");
    assert!(lines.contains(&"stranger refused: unauthorized"), "{out}");
    // Alice's outbox file is left empty: the send was answered, nothing is pending.
    let outbox = std::fs::read_to_string(folder.join("alice-outbox.json")).expect("the file outbox");
    assert_eq!(outbox.trim(), "[]", "{outbox}");
    let _ = std::fs::remove_dir_all(&folder);
}

/// What the Node app runs, as alice's browser would (`ROUND` 1: start the
/// device's encryption, keys uploaded; 2: restart from its pickles, read
/// bob's message, answer; 3: restart again, read the history, send on).
/// Its keys and sessions live in a file between the runs, as a browser
/// keeps them in IndexedDB.
const ENCRYPTED_APP: &str = r#"
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import WebSocket from "ws";
import { ChatClient, Encryption } from "@serverless-chat/client";
import * as vodozemac from "@serverless-chat/client/crypto";

const wasm = new URL(import.meta.resolve("@serverless-chat/client/crypto").replace(/vodozemac\.js$/, "vodozemac_bg.wasm"));
vodozemac.initSync({ module: readFileSync(wasm) });
const file = "alice-keys.json";
const saved = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {};
const store = {
  get: async (key) => saved[key],
  set: async (key, value) => { saved[key] = value; writeFileSync(file, JSON.stringify(saved)); },
};
const env = process.env;
const client = new ChatClient({
  websocketUrl: env.WS_URL, httpApiUrl: env.HTTP_URL, getToken: async () => env.TOKEN, userId: env.ALICE, WebSocket,
});
const encryption = new Encryption({
  vodozemac, request: (action, fields) => client.request(action, fields), userId: env.ALICE, deviceId: "web",
  pickleKey: new Uint8Array(32).fill(3), store,
});
const waiting = [];
const read = [];
// One at a time, in arrival order: a key frame is taken in before the messages after it are opened.
let work = Promise.resolve();
const reveal = async () => {
  for (const message of waiting.splice(0)) {
    const body = await encryption.open(message.message);
    if (body) read.push(body.text); else waiting.push(message);
  }
};
client.on("toDevice", (frame) => { work = work.then(() => encryption.receive(frame)).then(reveal); });
client.on("newMessage", (frame) => { waiting.push(frame); work = work.then(reveal); });
// The account first: key frames the connect's sync brings are read with it.
await encryption.load();
await client.connect();
await encryption.start();
if (env.ROUND === "1") {
  console.log("keys uploaded");
} else if (env.ROUND === "3") {
  // After another restart: history opens with the kept session keys, and
  // a send goes on with the kept session (no new key to share).
  const page = await (await fetch(`${env.HTTP_URL}/chats/${env.CHAT}/messages`, { headers: { authorization: `Bearer ${env.TOKEN}` } })).json();
  const texts = [];
  for (const m of page.messages) texts.push((await encryption.open(m.message))?.text ?? "(cannot read)");
  console.log(`alice history: ${texts.join(" | ")}`);
  const sent = await encryption.send(env.CHAT, "again", { text: "again, after a restart" });
  console.log(`alice sent seq ${sent.seq}`);
} else {
  for (let i = 0; i < 300 && read.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
  console.log(`alice read: ${read[0]}`);
  console.log(`alice cannot read: ${waiting.length}`);
  const sent = await encryption.send(env.CHAT, "from-node", { text: "hello from Node, encrypted" });
  console.log(`alice sent seq ${sent.seq}`);
}
client.close();
"#;

#[tokio::test]
async fn the_packed_client_chats_end_to_end_encrypted_with_the_rust_client_and_keeps_its_keys_across_restarts() {
    use e2e_tests::e2ee::SecureDevice;
    let system = System::start().await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    system.sign_up(&[&alice]).await;
    let folder = std::env::temp_dir().join(unique("sdk-e2ee"));
    std::fs::create_dir_all(&folder).expect("an empty folder");
    let folder_arg = folder.to_str().expect("a UTF-8 path");
    let packed = run(&client_dir(), "npm", &["pack", "--silent", "--pack-destination", folder_arg], &[]).await;
    let tarball = format!("./{}", packed.lines().last().expect("a tarball").trim());
    std::fs::write(folder.join("package.json"), r#"{"name": "sdk-e2ee-test", "private": true, "type": "module"}"#).unwrap();
    run(&folder, "npm", &["install", "--no-audit", "--no-fund", "--silent", &tarball, WS_PACKAGE], &[]).await;
    assert!(folder.join("node_modules/@serverless-chat/client/crypto/vodozemac_bg.wasm").is_file(), "the package ships the wasm");
    std::fs::write(folder.join("app.mjs"), ENCRYPTED_APP).unwrap();
    let token = system.runtime.issue_token(&alice, "web");
    let (ws, http) = (system.runtime.websocket_url(), system.http_url());
    let env = |round: &'static str, chat: &str| {
        [
            ("WS_URL", ws.clone()),
            ("HTTP_URL", http.clone()),
            ("TOKEN", token.clone()),
            ("ALICE", alice.clone()),
            ("ROUND", round.into()),
            ("CHAT", chat.into()),
        ]
    };
    let as_refs = |pairs: &[(&'static str, String); 6]| pairs.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>();

    // Alice's device (Node) starts: its keys are on the server.
    let first = as_refs(&env("1", ""));
    let first: Vec<(&str, &str)> = first.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = run(&folder, "node", &["app.mjs"], &first).await;
    assert!(out.contains("keys uploaded"), "{out}");

    // Bob (the Rust client) starts an encrypted chat with alice and writes.
    let mut b = SecureDevice::connect(&system, &bob, "phone").await;
    b.client.sign_up(&[&alice]).await;
    let created = b.client.request(serde_json::json!({ "action": "createChat", "participants": [alice], "encrypted": true })).await;
    let chat = created["chatId"].as_str().expect("a chat").to_owned();
    let sent = b.send(&chat, "from-rust", "hello from Rust, encrypted").await;
    assert_eq!(sent["status"], "SUCCESS", "{sent}");

    // Alice's device starts again from its pickles, reads bob's message, answers.
    let second = as_refs(&env("2", &chat));
    let second: Vec<(&str, &str)> = second.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = run(&folder, "node", &["app.mjs"], &second).await;
    assert!(out.contains("alice read: hello from Rust, encrypted"), "{out}");
    assert!(out.contains("alice cannot read: 0"), "{out}");
    assert!(out.contains("alice sent seq 2"), "{out}");
    let got = b.read(1).await;
    assert_eq!(got[0].text, "hello from Node, encrypted");
    assert_eq!(got[0].sender_id, alice);
    let keys_before = b.keys_received.len();

    // Once more from its pickles: history reads, the session goes on.
    let third = as_refs(&env("3", &chat));
    let third: Vec<(&str, &str)> = third.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = run(&folder, "node", &["app.mjs"], &third).await;
    assert!(out.contains("alice history: hello from Rust, encrypted | hello from Node, encrypted"), "{out}");
    assert!(out.contains("alice sent seq 3"), "{out}");
    assert_eq!(b.read(1).await[0].text, "again, after a restart");
    assert_eq!(b.keys_received.len(), keys_before, "the kept session went on: no new key was shared");
    // What alice's device keeps on disk is encrypted under its pickle key.
    let kept = std::fs::read_to_string(folder.join("alice-keys.json")).unwrap();
    assert!(!kept.contains("hello") && kept.contains("account"), "{kept}");
    let _ = std::fs::remove_dir_all(&folder);
}
