//! Every function of `template.yaml` deploys the one `bootstrap` binary and
//! names, as its `Handler`, a row of the registry that says what invokes it —
//! and the template wires it so; every registry row is in the template, and
//! every route reaches a function: adding one without the others fails here.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;

use functions::registry::{Api, FUNCTIONS, Kind, find};
use local_runtime::repository_template;
use local_runtime::template::Template;

/// What invokes each template function (by logical id), read off the template.
fn kinds_in_template(template: &Template) -> BTreeMap<String, Vec<String>> {
    let mut kinds: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let api = template.websocket_api().unwrap();
    for route in &api.routes {
        kinds.entry(route.function.clone()).or_default().push(format!("{:?}", Kind::WebSocket(leak(&route.route_key))));
        if let Some(authorizer) = &route.authorizer {
            kinds.entry(authorizer.clone()).or_default().push(format!("{:?}", Kind::Authorizer(Api::WebSocket)));
        }
    }
    let http = template.http_api(&|name| template.parameter_default(name)).unwrap().expect("the template has an HTTP API");
    for route in &http.routes {
        let kind = Kind::Http { method: leak(&route.method), path: leak(&route.path) };
        kinds.entry(route.function.clone()).or_default().push(format!("{kind:?}"));
    }
    let authorizer = http.authorizer.expect("the HTTP API has an authorizer");
    kinds.entry(authorizer.function).or_default().push(format!("{:?}", Kind::Authorizer(Api::Http)));
    for source in template.stream_sources().unwrap() {
        kinds.entry(source.function.clone()).or_default().push(format!("{:?}", Kind::Stream(leak(&source.table))));
    }
    for schedule in template.schedules().unwrap() {
        kinds.entry(schedule.function.clone()).or_default().push(format!("{:?}", Kind::Schedule));
    }
    kinds
}

fn leak(text: &str) -> &'static str {
    Box::leak(text.to_owned().into_boxed_str())
}

#[test]
fn every_template_function_is_a_registry_row_wired_as_the_registry_says() {
    let template = Template::load(&repository_template()).unwrap();
    let kinds = kinds_in_template(&template);
    let mut handlers = BTreeSet::new();
    for function in template.functions().unwrap() {
        assert_eq!(function.binary, "bootstrap", "{} deploys the one binary", function.logical_id);
        assert!(handlers.insert(function.handler.clone()), "two template functions have Handler {}", function.handler);
        let registered = find(&function.handler)
            .unwrap_or_else(|| panic!("{}: Handler {} is not in functions/src/registry.rs", function.logical_id, function.handler));
        let wired = kinds.get(&function.logical_id).cloned().unwrap_or_default();
        assert_eq!(
            wired,
            vec![format!("{:?}", registered.kind)],
            "{} ({}): the template wires it (left), the registry says (right)",
            function.logical_id,
            function.handler
        );
    }
    let registered: BTreeSet<String> = FUNCTIONS.iter().map(|f| f.name.to_owned()).collect();
    assert_eq!(handlers, registered, "template Handlers (left) vs registry rows (right)");
}

#[test]
fn registry_names_and_routes_are_each_registered_once() {
    let mut names = HashSet::new();
    let mut routes = HashSet::new();
    for function in FUNCTIONS {
        assert!(names.insert(function.name), "{} is registered twice", function.name);
        if !matches!(function.kind, Kind::Stream(_) | Kind::Schedule) {
            assert!(routes.insert(function.kind), "{:?} has two functions", function.kind);
        }
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
    assert_eq!(template.parameter_default("RateLimits").as_deref(), Some(domain::limits::DEFAULT_RATE_LIMITS));
    assert_eq!(template.parameter_default("MediaLimits").as_deref(), Some(domain::config::DEFAULT_MEDIA_LIMITS));
}

/// The wire contract's request frames are the WebSocket API's routes: a
/// route without a request type, or a request type without a route, fails.
#[test]
fn every_request_frame_of_the_contract_is_a_websocket_route() {
    let routes: BTreeSet<String> = FUNCTIONS
        .iter()
        .filter_map(|f| match f.kind {
            Kind::WebSocket(key) if !key.starts_with('$') => Some(key.to_owned()),
            _ => None,
        })
        .collect();
    let actions: BTreeSet<String> = domain::protocol::schema::actions().into_iter().collect();
    assert_eq!(routes, actions, "WebSocket routes of the registry (left) vs the contract's request frames (right)");
}
