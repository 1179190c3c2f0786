//! IAM, locally: every AWS call a function makes is checked against that
//! function's `Policies` in template.yaml before it reaches a stand-in, so a
//! permission the template forgot fails here as it would deployed.
//!
//! Each function signs with its own access key id (its logical id), as each
//! deployed function signs with its own role's credentials; a presigned S3
//! URL carries the key id of the function that signed it and is judged by
//! that function's permissions, as S3 does.
//!
//! Covered: inline policy statements (`Effect`, `Action`, `Resource`, strings
//! or lists, `*` and `?` wildcards, explicit `Deny` over `Allow`, default
//! deny); actions and resource ARNs of DynamoDB (tables, `/index/…`, each
//! table of a batch, each action inside a transaction, which IAM checks as
//! `PutItem`/`UpdateItem`/`DeleteItem`/`ConditionCheckItem`/`GetItem`), S3
//! (object and bucket ARNs, `DeleteObjects` per key, 403 for a missing key
//! unless `s3:ListBucket` is allowed), SNS (the topic, endpoint or platform
//! application named in the request) and `execute-api:ManageConnections`
//! (the `@connections` ARN with method and connection id), Secrets Manager
//! (the secret named in the request).
//!
//! Not covered (the template does not use them; a policy that does is refused
//! at start-up rather than evaluated wrongly): `Condition`, `NotAction`,
//! `NotResource`, `Principal`, SAM policy templates and managed policy names.
//! Resource policies (the bucket's `aws:SecureTransport` deny: locally
//! everything is plain HTTP), permission boundaries and SCPs are not
//! evaluated. The stream event sources and schedules are AWS's own machinery
//! (SAM grants their stream permissions) and are not checked.

use std::collections::HashMap;

use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;
use serde_json::Value;
use serde_yaml_ng::Value as Yaml;

use crate::LocalError;
use crate::aws_conventions::{LOCAL_ACCOUNT, new_request_id, query_pairs};
use crate::template::{resolve, tagged};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Effect {
    Allow,
    Deny,
}

#[derive(Clone, Debug)]
struct Statement {
    effect: Effect,
    actions: Vec<String>,
    resources: Vec<String>,
}

/// One function's identity-based policy, resolved.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    statements: Vec<Statement>,
}

fn list(value: Option<&Yaml>, what: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Vec<String>, LocalError> {
    match value {
        None => Err(LocalError::Template(format!("policy statement without {what}"))),
        Some(Yaml::Sequence(items)) => items.iter().map(|v| resolve(v, lookup)).collect(),
        Some(one) => Ok(vec![resolve(one, lookup)?]),
    }
}

impl Policy {
    /// The statements of a function's `Policies` list.
    pub fn from_template(policies: &[Yaml], function: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, LocalError> {
        let refuse = |why: String| LocalError::Template(format!("{function}: {why}; the local IAM evaluator does not cover it"));
        let mut statements = Vec::new();
        for policy in policies {
            if tagged(policy).is_some() || policy.as_str().is_some() {
                return Err(refuse("a managed policy reference".into()));
            }
            let Some(list_of) = policy.get("Statement").and_then(Yaml::as_sequence) else {
                return Err(refuse(format!("policy {policy:?} is not an inline policy document")));
            };
            for statement in list_of {
                for key in ["Condition", "NotAction", "NotResource", "Principal", "NotPrincipal"] {
                    if statement.get(key).is_some() {
                        return Err(refuse(format!("a statement with {key}")));
                    }
                }
                let effect = match statement.get("Effect").and_then(Yaml::as_str) {
                    Some("Allow") => Effect::Allow,
                    Some("Deny") => Effect::Deny,
                    other => return Err(refuse(format!("Effect {other:?}"))),
                };
                let actions = list(statement.get("Action"), "Action", lookup)?;
                let resources = list(statement.get("Resource"), "Resource", lookup)?;
                statements.push(Statement { effect, actions, resources });
            }
        }
        Ok(Self { statements })
    }

    /// IAM's answer for one action on one resource: an explicit deny wins,
    /// then any allow; nothing matching is a deny.
    pub fn allows(&self, action: &str, resource: &str) -> bool {
        let matching = |s: &&Statement| {
            s.actions.iter().any(|a| wildcard_match(&a.to_ascii_lowercase(), &action.to_ascii_lowercase()))
                && s.resources.iter().any(|r| wildcard_match(r, resource))
        };
        let mut allowed = false;
        for statement in self.statements.iter().filter(matching) {
            if statement.effect == Effect::Deny {
                return false;
            }
            allowed = true;
        }
        allowed
    }
}

/// IAM's pattern match: `*` any run of characters, `?` any one character.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// A principal: the function whose role signed the call.
#[derive(Debug)]
pub struct Principal {
    pub function: String,
    pub policy: Policy,
}

impl Principal {
    fn arn(&self) -> String {
        format!("arn:aws:sts::{LOCAL_ACCOUNT}:assumed-role/{0}Role/{0}", self.function)
    }
}

/// Every function's policy, by the access key id it signs with.
#[derive(Debug, Default)]
pub struct Iam {
    principals: HashMap<String, Principal>,
    /// Every call refused, in order (what CloudTrail would show as AccessDenied).
    denials: std::sync::Mutex<Vec<Denial>>,
}

/// One refused call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denial {
    pub function: String,
    pub action: String,
    pub resource: String,
}

/// The access key id a function signs with.
pub fn access_key_id(function: &str) -> String {
    format!("LOCAL{function}")
}

/// One action on one resource that a request needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Needed {
    pub action: String,
    pub resource: String,
}

fn need(action: impl Into<String>, resource: impl Into<String>) -> Needed {
    Needed { action: action.into(), resource: resource.into() }
}

/// What IAM decided about a request.
pub enum Decision {
    Allowed,
    /// Allowed, and S3 may say that a key is missing (the caller may list the bucket).
    AllowedMayList,
    Denied(Response),
}

impl Iam {
    pub fn add(&mut self, function: &str, policy: Policy) {
        self.principals.insert(access_key_id(function), Principal { function: function.to_owned(), policy });
    }

    pub fn principal(&self, access_key_id: &str) -> Option<&Principal> {
        self.principals.get(access_key_id)
    }

    /// The calls refused so far.
    pub fn denials(&self) -> Vec<Denial> {
        self.denials.lock().map(|d| d.clone()).unwrap_or_default()
    }

    fn record(&self, principal: &Principal, needed: &Needed) {
        tracing::warn!(function = %principal.function, action = %needed.action, resource = %needed.resource, "IAM denied an AWS call");
        if let Ok(mut denials) = self.denials.lock() {
            denials.push(Denial { function: principal.function.clone(), action: needed.action.clone(), resource: needed.resource.clone() });
        }
    }

    /// Checks an AWS request bound for a stand-in (DynamoDB, S3 or SNS).
    /// The function that signed a request, and the region it signed for; or
    /// why the request names no function.
    fn signed_by(&self, headers: &HeaderMap, uri: &Uri) -> Result<(&Principal, String), String> {
        let (key_id, region) = signer(headers, uri).ok_or("The request is not signed.")?;
        let principal = self
            .principal(&key_id)
            .ok_or_else(|| format!("The security token included in the request is invalid (access key {key_id} is no function's)."))?;
        Ok((principal, region))
    }

    pub fn decide(&self, method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Decision {
        let service = Service::of(headers, uri);
        let (principal, region) = match self.signed_by(headers, uri) {
            Ok(signed) => signed,
            Err(why) => return Decision::Denied(denied(service, &why)),
        };
        let needed = match service {
            Service::DynamoDb => dynamodb_needs(headers, body, &region),
            Service::Sns => sns_needs(body),
            Service::S3 => s3_needs(method, uri, body),
            Service::SecretsManager => secrets_needs(headers, body),
        };
        if let Some(refused) = needed.iter().find(|n| !principal.policy.allows(&n.action, &n.resource)) {
            self.record(principal, refused);
            return Decision::Denied(denied(service, &not_authorized(principal, refused)));
        }
        if service == Service::S3
            && s3_bucket(uri).is_some_and(|bucket| principal.policy.allows("s3:ListBucket", &format!("arn:aws:s3:::{bucket}")))
        {
            return Decision::AllowedMayList;
        }
        Decision::Allowed
    }

    /// Checks a call to the `@connections` API; `arn` is the connection's
    /// `execute-api` ARN with method (`…/{stage}/POST/@connections/{id}`).
    /// `Some` is API Gateway's refusal.
    pub fn refuse_manage_connections(&self, headers: &HeaderMap, uri: &Uri, arn: &str) -> Option<Response> {
        let refuse = |message: String| {
            (
                StatusCode::FORBIDDEN,
                [("x-amzn-errortype", "AccessDeniedException"), ("content-type", "application/json")],
                serde_json::json!({ "Message": message }).to_string(),
            )
                .into_response()
        };
        let principal = match self.signed_by(headers, uri) {
            Ok((principal, _)) => principal,
            // API Gateway's words for a request with no signature at all.
            Err(_) if signer(headers, uri).is_none() => return Some(refuse("Missing Authentication Token".into())),
            Err(why) => return Some(refuse(why)),
        };
        let needed = need("execute-api:ManageConnections", arn);
        if principal.policy.allows(&needed.action, &needed.resource) {
            return None;
        }
        self.record(principal, &needed);
        Some(refuse(not_authorized(principal, &needed)))
    }
}

fn not_authorized(principal: &Principal, needed: &Needed) -> String {
    format!(
        "User: {} is not authorized to perform: {} on resource: {} because no identity-based policy allows the {} action",
        principal.arn(),
        needed.action,
        needed.resource,
        needed.action
    )
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    DynamoDb,
    S3,
    Sns,
    SecretsManager,
}

impl Service {
    pub fn of(headers: &HeaderMap, uri: &Uri) -> Self {
        match headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
            Some(target) if target.starts_with("DynamoDB") => return Service::DynamoDb,
            Some(target) if target.starts_with("secretsmanager.") => return Service::SecretsManager,
            _ => {}
        }
        match signer_scope(headers, uri).and_then(|scope| scope.split('/').nth(3).map(str::to_owned)).as_deref() {
            Some("sns") => Service::Sns,
            Some("dynamodb") => Service::DynamoDb,
            _ => Service::S3,
        }
    }
}

/// The SigV4 credential scope: `AKID/20261123/us-east-1/dynamodb/aws4_request`,
/// from the `Authorization` header or a presigned URL's `X-Amz-Credential`.
fn signer_scope(headers: &HeaderMap, uri: &Uri) -> Option<String> {
    if let Some(auth) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
        let credential = auth.split([' ', ',']).find_map(|part| part.strip_prefix("Credential="))?;
        return Some(credential.to_owned());
    }
    query_pairs(uri.query().unwrap_or("")).find(|(k, _)| k == "X-Amz-Credential").map(|(_, v)| v)
}

/// The signer's access key id and region.
fn signer(headers: &HeaderMap, uri: &Uri) -> Option<(String, String)> {
    let scope = signer_scope(headers, uri)?;
    let mut parts = scope.split('/');
    let key_id = parts.next()?.to_owned();
    let region = parts.nth(1)?.to_owned();
    Some((key_id, region))
}

/// The actions and resources a DynamoDB request needs.
fn dynamodb_needs(headers: &HeaderMap, body: &[u8], region: &str) -> Vec<Needed> {
    let operation = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).and_then(|t| t.split_once('.')).map_or("", |(_, op)| op);
    let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let table = |name: &str| format!("arn:aws:dynamodb:{region}:{LOCAL_ACCOUNT}:table/{name}");
    let of_table = |action: &str, request: &Value| -> Needed {
        let name = request["TableName"].as_str().unwrap_or("");
        match request["IndexName"].as_str() {
            Some(index) => need(format!("dynamodb:{action}"), format!("{}/index/{index}", table(name))),
            None => need(format!("dynamodb:{action}"), table(name)),
        }
    };
    match operation {
        "BatchGetItem" | "BatchWriteItem" => request["RequestItems"]
            .as_object()
            .map(|items| items.keys().map(|name| need(format!("dynamodb:{operation}"), table(name))).collect())
            .unwrap_or_default(),
        // IAM checks each action of a transaction on its own table.
        "TransactWriteItems" | "TransactGetItems" => request["TransactItems"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|item| {
                let (kind, inner) = item.as_object()?.iter().next()?;
                let action = match kind.as_str() {
                    "Put" => "PutItem",
                    "Update" => "UpdateItem",
                    "Delete" => "DeleteItem",
                    "ConditionCheck" => "ConditionCheckItem",
                    _ => "GetItem",
                };
                Some(of_table(action, inner))
            })
            .collect(),
        "ListTables" => vec![need("dynamodb:ListTables", "*")],
        _ => vec![of_table(operation, &request)],
    }
}

/// The actions and resources an SNS (query protocol) request needs.
fn sns_needs(body: &[u8]) -> Vec<Needed> {
    let form: Vec<_> = query_pairs(&String::from_utf8_lossy(body)).collect();
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let action = field("Action").unwrap_or_default();
    let resource = match action.as_str() {
        "Publish" => field("TargetArn").or_else(|| field("TopicArn")),
        "CreatePlatformEndpoint" | "ListEndpointsByPlatformApplication" | "GetPlatformApplicationAttributes" => {
            field("PlatformApplicationArn")
        }
        "SetEndpointAttributes" | "GetEndpointAttributes" | "DeleteEndpoint" => field("EndpointArn"),
        _ => None,
    };
    vec![need(format!("sns:{action}"), resource.unwrap_or_else(|| "*".into()))]
}

/// The action and secret a Secrets Manager (JSON protocol) request needs.
fn secrets_needs(headers: &HeaderMap, body: &[u8]) -> Vec<Needed> {
    let operation = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).and_then(|t| t.split_once('.')).map_or("", |(_, op)| op);
    let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    vec![need(format!("secretsmanager:{operation}"), request["SecretId"].as_str().unwrap_or("*"))]
}

/// The bucket of a path-style S3 request.
fn s3_bucket(uri: &Uri) -> Option<String> {
    let path = uri.path().trim_start_matches('/');
    let bucket = path.split('/').next().filter(|b| !b.is_empty())?;
    Some(percent_decode_str(bucket).decode_utf8_lossy().into_owned())
}

/// The actions and resources an S3 (path-style) request needs.
fn s3_needs(method: &Method, uri: &Uri, body: &[u8]) -> Vec<Needed> {
    let Some(bucket) = s3_bucket(uri) else { return vec![need("s3:ListAllMyBuckets", "*")] };
    let path = uri.path().trim_start_matches('/');
    let key = path.split_once('/').map(|(_, key)| percent_decode_str(key).decode_utf8_lossy().into_owned()).filter(|k| !k.is_empty());
    let query: Vec<_> = query_pairs(uri.query().unwrap_or("")).collect();
    let has = |name: &str| query.iter().any(|(k, _)| k == name);
    let object = |key: &str| format!("arn:aws:s3:::{bucket}/{key}");
    match (method.as_str(), key) {
        ("GET" | "HEAD", Some(key)) => vec![need("s3:GetObject", object(&key))],
        ("PUT" | "POST", Some(key)) => vec![need("s3:PutObject", object(&key))],
        ("DELETE", Some(key)) if has("uploadId") => vec![need("s3:AbortMultipartUpload", object(&key))],
        ("DELETE", Some(key)) => vec![need("s3:DeleteObject", object(&key))],
        // DeleteObjects: IAM checks s3:DeleteObject on every key it names.
        ("POST", None) if has("delete") => {
            let body = String::from_utf8_lossy(body);
            body.split("<Key>")
                .skip(1)
                .filter_map(|rest| rest.split("</Key>").next())
                .map(|key| need("s3:DeleteObject", object(&xml_unescape(key))))
                .collect()
        }
        ("GET" | "HEAD", None) => vec![need("s3:ListBucket", format!("arn:aws:s3:::{bucket}"))],
        (other, None) => vec![need(format!("s3:{other}Bucket"), format!("arn:aws:s3:::{bucket}"))],
        (other, Some(key)) => vec![need(format!("s3:{other}Object"), object(&key))],
    }
}

fn xml_unescape(text: &str) -> String {
    text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

/// The service's own access-denied answer, as its SDK parses it.
fn denied(service: Service, message: &str) -> Response {
    match service {
        Service::DynamoDb | Service::SecretsManager => {
            let body = serde_json::json!({ "__type": "com.amazon.coral.service#AccessDeniedException", "Message": message }).to_string();
            (StatusCode::BAD_REQUEST, [("content-type", "application/x-amz-json-1.0"), ("x-amzn-errortype", "AccessDeniedException")], body)
                .into_response()
        }
        Service::Sns => {
            let body = format!(
                "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><Error><Type>Sender</Type><Code>AuthorizationError</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
                xml_escape(message),
                new_request_id()
            );
            (StatusCode::FORBIDDEN, [("content-type", "text/xml")], body).into_response()
        }
        Service::S3 => s3_access_denied(message),
    }
}

/// S3's 403 `AccessDenied`.
pub fn s3_access_denied(message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code><Message>{}</Message><RequestId>{}</RequestId></Error>",
        xml_escape(message),
        new_request_id()
    );
    (StatusCode::FORBIDDEN, [("content-type", "application/xml")], body).into_response()
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(yaml: &str) -> Policy {
        let value: Yaml = serde_yaml_ng::from_str(yaml).unwrap();
        let lookup = |name: &str| match name {
            "T.Arn" => Some("arn:aws:dynamodb:us-east-1:123456789012:table/t".to_owned()),
            "B.Arn" => Some("arn:aws:s3:::b".to_owned()),
            _ => None,
        };
        Policy::from_template(value.as_sequence().unwrap(), "F", &lookup).unwrap()
    }

    const POLICY: &str = r#"
- Version: "2012-10-17"
  Statement:
    - Effect: Allow
      Action: [dynamodb:GetItem, dynamodb:PutItem]
      Resource: !GetAtt T.Arn
    - Effect: Allow
      Action: dynamodb:Query
      Resource: !Sub "${T.Arn}/index/*"
    - Effect: Allow
      Action: s3:*
      Resource: !Sub "${B.Arn}/media/*"
    - Effect: Deny
      Action: s3:DeleteObject
      Resource: !Sub "${B.Arn}/media/keep-?"
"#;

    #[test]
    fn actions_and_resources_match_as_iam_matches_them() {
        let p = policy(POLICY);
        let table = "arn:aws:dynamodb:us-east-1:123456789012:table/t";
        assert!(p.allows("dynamodb:GetItem", table));
        assert!(p.allows("DynamoDB:getitem", table), "action names are case-insensitive");
        assert!(!p.allows("dynamodb:UpdateItem", table), "an action not granted");
        assert!(!p.allows("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/other"));
        assert!(!p.allows("dynamodb:Query", table), "the index grant is not the table's");
        assert!(p.allows("dynamodb:Query", &format!("{table}/index/byUser")));
        assert!(p.allows("s3:GetObject", "arn:aws:s3:::b/media/c/1"));
        assert!(!p.allows("s3:GetObject", "arn:aws:s3:::b/other/1"));
        assert!(!p.allows("s3:DeleteObject", "arn:aws:s3:::b/media/keep-1"), "an explicit deny wins");
        assert!(p.allows("s3:DeleteObject", "arn:aws:s3:::b/media/keep-10"), "? is one character");
    }

    #[test]
    fn requests_name_what_they_need() {
        let mut headers = HeaderMap::new();
        headers.insert("x-amz-target", "DynamoDB_20120810.TransactWriteItems".parse().unwrap());
        let body = br#"{"TransactItems":[{"Put":{"TableName":"m"}},{"ConditionCheck":{"TableName":"c"}},{"Update":{"TableName":"c"}}]}"#;
        let table = |n: &str| format!("arn:aws:dynamodb:eu-west-1:{LOCAL_ACCOUNT}:table/{n}");
        assert_eq!(
            dynamodb_needs(&headers, body, "eu-west-1"),
            vec![
                need("dynamodb:PutItem", table("m")),
                need("dynamodb:ConditionCheckItem", table("c")),
                need("dynamodb:UpdateItem", table("c"))
            ]
        );
        headers.insert("x-amz-target", "DynamoDB_20120810.Query".parse().unwrap());
        assert_eq!(
            dynamodb_needs(&headers, br#"{"TableName":"m","IndexName":"i"}"#, "eu-west-1"),
            vec![need("dynamodb:Query", format!("{}/index/i", table("m")))]
        );
        let uri: Uri = "/bucket?delete".parse().unwrap();
        assert_eq!(
            s3_needs(&Method::POST, &uri, b"<Delete><Object><Key>media/a&amp;b</Key></Object><Object><Key>media/c</Key></Object></Delete>"),
            vec![need("s3:DeleteObject", "arn:aws:s3:::bucket/media/a&b"), need("s3:DeleteObject", "arn:aws:s3:::bucket/media/c")]
        );
        let uri: Uri = "/bucket/media/x%20y?x-id=GetObject".parse().unwrap();
        assert_eq!(s3_needs(&Method::HEAD, &uri, b""), vec![need("s3:GetObject", "arn:aws:s3:::bucket/media/x y")]);
        assert_eq!(
            sns_needs(b"Action=Publish&TargetArn=arn%3Aaws%3Asns%3Aus-east-1%3A1%3Aendpoint%2FGCM%2Fa%2Fb&Message=hi"),
            vec![need("sns:Publish", "arn:aws:sns:us-east-1:1:endpoint/GCM/a/b")]
        );
    }

    #[test]
    fn what_the_evaluator_cannot_judge_is_refused_at_start() {
        let value: Yaml = serde_yaml_ng::from_str(
            "- Statement: [{Effect: Allow, Action: s3:GetObject, Resource: '*', Condition: {Bool: {aws:SecureTransport: true}}}]",
        )
        .unwrap();
        assert!(Policy::from_template(value.as_sequence().unwrap(), "F", &|_| None).is_err());
        let value: Yaml = serde_yaml_ng::from_str("- DynamoDBCrudPolicy: {TableName: t}").unwrap();
        assert!(Policy::from_template(value.as_sequence().unwrap(), "F", &|_| None).is_err());
    }
}
