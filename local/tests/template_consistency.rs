//! Every function of `template.yaml` is a binary of the `functions` package
//! (`src/bin/<name>.rs`, listed in its Cargo.toml without a test harness) and
//! has a local handler, and every route reaches a function: adding one without
//! the others fails here.

use std::collections::BTreeSet;
use std::path::Path;

use local_runtime::handlers::handler_for;
use local_runtime::repository_template;
use local_runtime::template::Template;

#[test]
fn functions_in_the_template_and_in_the_workspace_match() {
    let template = Template::load(&repository_template()).unwrap();
    let in_template: BTreeSet<String> = template.functions().unwrap().into_iter().map(|f| f.binary).collect();
    let functions = Path::new(env!("CARGO_MANIFEST_DIR")).join("../functions");
    let sources: BTreeSet<String> = std::fs::read_dir(functions.join("src/bin"))
        .unwrap()
        .map(|entry| entry.unwrap().path().file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(in_template, sources, "template functions (left) vs functions/src/bin/*.rs (right)");
    let manifest = std::fs::read_to_string(functions.join("Cargo.toml")).unwrap();
    let listed: BTreeSet<String> = manifest
        .lines()
        .filter_map(|line| line.trim().strip_prefix("{ name = \"")?.strip_suffix("\", test = false },").map(str::to_owned))
        .collect();
    assert_eq!(in_template, listed, "template functions (left) vs binaries in functions/Cargo.toml without a test harness (right)");
    for binary in &in_template {
        assert!(handler_for(binary).is_some(), "{binary} has no local handler");
    }
}

#[test]
fn every_route_reaches_a_function_and_replies_where_the_protocol_expects_it() {
    let template = Template::load(&repository_template()).unwrap();
    let api = template.websocket_api().unwrap();
    assert_eq!(api.route_selection_expression, "$request.body.action");
    let functions: BTreeSet<String> = template.functions().unwrap().into_iter().map(|f| f.logical_id).collect();
    let keys: BTreeSet<&str> = api.routes.iter().map(|r| r.route_key.as_str()).collect();
    for expected in ["$connect", "$disconnect", "$default", "createChat", "sendMessage", "ack", "sync"] {
        assert!(keys.contains(expected), "route {expected} is missing");
    }
    for route in &api.routes {
        assert!(functions.contains(&route.function), "{} → {}", route.route_key, route.function);
        let replies = !route.route_key.starts_with("$connect") && route.route_key != "$disconnect";
        assert_eq!(route.has_route_response, replies, "{} route response", route.route_key);
    }
    let connect = api.routes.iter().find(|r| r.route_key == "$connect").unwrap();
    assert!(connect.authorizer.is_some(), "$connect is authorized");
}

#[test]
fn the_http_api_has_every_documented_route_behind_the_token_authorizer() {
    let template = Template::load(&repository_template()).unwrap();
    let api = template.http_api(&|name| template.parameter_default(name)).unwrap().expect("the template has an HTTP API");
    let functions: BTreeSet<String> = template.functions().unwrap().into_iter().map(|f| f.logical_id).collect();
    let routes: BTreeSet<String> = api.routes.iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    // docs/http-api.md documents exactly these.
    let documented = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/http-api.md")).unwrap();
    for route in &routes {
        assert!(documented.contains(&format!("`{route}`")), "{route} is not documented in docs/http-api.md");
    }
    for expected in [
        "POST /chats/{chatId}/attachments",
        "GET /chats/{chatId}/attachments/{attachmentId}",
        "GET /chats",
        "GET /chats/{chatId}",
        "GET /chats/{chatId}/messages",
        "GET /users/{userId}",
    ] {
        assert!(routes.contains(expected), "route {expected} is missing");
    }
    for route in &api.routes {
        assert!(functions.contains(&route.function), "{} {} → {}", route.method, route.path, route.function);
    }
    let authorizer = api.authorizer.expect("every route is authorized");
    assert!(functions.contains(&authorizer.function));
    assert_eq!(authorizer.identity_headers, vec!["authorization".to_owned()]);
}

/// Limits the code falls back to are the ones the template deploys with.
#[test]
fn the_templates_limit_defaults_are_the_codes() {
    let template = Template::load(&repository_template()).unwrap();
    assert_eq!(template.parameter_default("RateLimits").as_deref(), Some(shared::limits::DEFAULT_RATE_LIMITS));
    assert_eq!(template.parameter_default("MediaLimits").as_deref(), Some(shared::config::DEFAULT_MEDIA_LIMITS));
}
