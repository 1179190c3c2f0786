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
