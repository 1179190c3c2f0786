//! Reads `template.yaml`: the WebSocket API's routes, the functions behind them,
//! their environment, and the DynamoDB tables. The local runtime takes all of it
//! from here, so a route or table added to the template exists locally too.

use std::collections::BTreeMap;
use std::path::Path;

use serde_yaml_ng::{Mapping, Value};

use crate::LocalError;

#[derive(Clone, Debug)]
pub struct Template {
    resources: Mapping,
    parameters: Mapping,
    globals_env: Mapping,
    /// `Globals.Function.Timeout` (SAM's default is 3 s).
    globals_timeout: Option<u64>,
    /// `Globals.Function.MemorySize` (Lambda's default is 128 MB).
    globals_memory: Option<u64>,
    /// `Globals.Function.Handler`, for a function without its own.
    globals_handler: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WsRoute {
    pub route_key: String,
    /// Logical id of the function behind the route's integration.
    pub function: String,
    /// Logical id of the authorizer function (only `$connect` has one).
    pub authorizer: Option<String>,
    /// API Gateway sends the handler's return body to the client only when the
    /// route has a route response.
    pub has_route_response: bool,
}

#[derive(Clone, Debug)]
pub struct WsApi {
    /// The API's logical id (its `!Ref` is the API id).
    pub logical_id: String,
    pub route_selection_expression: String,
    pub routes: Vec<WsRoute>,
}

#[derive(Clone, Debug)]
pub struct FunctionDef {
    pub logical_id: String,
    /// `Metadata.BuildProperties.Binary`: the cargo binary cargo-lambda builds
    /// (`bootstrap`, the same for every function).
    pub binary: String,
    /// `Handler` (Lambda's `_HANDLER`): the registry function the binary serves.
    pub handler: String,
    /// Globals' variables overlaid with the function's own, unresolved.
    pub environment: BTreeMap<String, Value>,
    /// `Policies`, unresolved (see `iam`).
    pub policies: Vec<Value>,
    /// `Timeout`: the function's own, else the Globals', else SAM's 3 s.
    pub timeout: std::time::Duration,
    /// `MemorySize` in MB: the function's own, else the Globals', else 128.
    pub memory_mb: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexDef {
    pub name: String,
    pub key_schema: Vec<(String, String)>,
    pub projection: String,
    /// `NonKeyAttributes` of an `INCLUDE` projection.
    pub non_key_attributes: Vec<String>,
}

/// A function's `Events` entry of type DynamoDB: Lambda's event source mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamSource {
    pub function: String,
    pub table: String,
    pub starting_position: String,
    pub batch_size: usize,
    pub batching_window_secs: u64,
    pub maximum_retry_attempts: usize,
    /// Batches of one shard processed at once (`ParallelizationFactor`,
    /// 1–10): records go to one of them by partition key, so each key's
    /// records stay in order.
    pub parallelization_factor: usize,
    pub report_batch_item_failures: bool,
    /// `eventName` values the filter lets through (empty: all).
    pub event_names: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableDef {
    pub logical_id: String,
    pub attributes: Vec<(String, String)>,
    pub key_schema: Vec<(String, String)>,
    pub indexes: Vec<IndexDef>,
    pub ttl_attribute: Option<String>,
    pub stream_view_type: Option<String>,
}

fn err(msg: impl Into<String>) -> LocalError {
    LocalError::Template(msg.into())
}

fn str_of<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key)?.as_str()
}

/// `!Tag value` → (tag without `!`, value).
pub(crate) fn tagged(value: &Value) -> Option<(String, &Value)> {
    match value {
        Value::Tagged(t) => Some((t.tag.to_string().trim_start_matches('!').to_owned(), &t.value)),
        _ => None,
    }
}

/// Names referenced as `${Name}` or `${Name.Attr}` in a `!Sub` string.
pub fn sub_references(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        out.push(after[..end].to_owned());
        rest = &after[end + 1..];
    }
    out
}

/// The logical id a `!Ref X`, `!GetAtt X.Arn` or `!Sub "...${X}..."` points at
/// (the first reference that is not a pseudo parameter).
fn referenced_resource(value: &Value) -> Option<String> {
    let (tag, inner) = tagged(value)?;
    match tag.as_str() {
        "Ref" => inner.as_str().map(str::to_owned),
        "GetAtt" => inner.as_str().and_then(|s| s.split('.').next()).map(str::to_owned),
        "Sub" => sub_references(inner.as_str()?)
            .into_iter()
            .find(|r| !r.starts_with("AWS::"))
            .map(|r| r.split('.').next().unwrap_or(&r).to_owned()),
        _ => None,
    }
}

impl Template {
    pub fn load(path: &Path) -> Result<Self, LocalError> {
        let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read {}: {e}", path.display())))?;
        Self::parse(&text)
    }

    pub fn parse(text: &str) -> Result<Self, LocalError> {
        let doc: Value = serde_yaml_ng::from_str(text).map_err(|e| err(e.to_string()))?;
        let mapping = |v: Option<&Value>| v.and_then(Value::as_mapping).cloned().unwrap_or_default();
        let resources = mapping(doc.get("Resources"));
        if resources.is_empty() {
            return Err(err("template has no Resources"));
        }
        let function = doc.get("Globals").and_then(|g| g.get("Function"));
        let globals_env = mapping(function.and_then(|f| f.get("Environment")).and_then(|e| e.get("Variables")));
        let global = |name: &str| function.and_then(|f| f.get(name)).and_then(Value::as_u64);
        let (globals_timeout, globals_memory) = (global("Timeout"), global("MemorySize"));
        let globals_handler = function.and_then(|f| str_of(f, "Handler")).map(str::to_owned);
        Ok(Self { resources, parameters: mapping(doc.get("Parameters")), globals_env, globals_timeout, globals_memory, globals_handler })
    }

    fn resources_of_type<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = (&'a str, &'a Value)> + 'a {
        self.resources
            .iter()
            .filter(move |(_, res)| str_of(res, "Type") == Some(kind))
            .map(|(id, res)| (id.as_str().unwrap_or_default(), res))
    }

    fn resource(&self, logical_id: &str) -> Option<&Value> {
        self.resources.get(logical_id)
    }

    /// Default value of a template parameter.
    pub fn parameter_default(&self, name: &str) -> Option<String> {
        scalar(self.parameters.get(name)?.get("Default")?)
    }

    pub fn is_parameter(&self, name: &str) -> bool {
        self.parameters.contains_key(name)
    }

    /// Logical ids of every resource of a type.
    pub fn logical_ids_of(&self, kind: &str) -> Vec<String> {
        self.resources_of_type(kind).map(|(id, _)| id.to_owned()).collect()
    }

    pub fn resource_type(&self, logical_id: &str) -> Option<&str> {
        str_of(self.resource(logical_id)?, "Type")
    }

    /// Every `AWS::Serverless::Function`.
    pub fn functions(&self) -> Result<Vec<FunctionDef>, LocalError> {
        let mut out = Vec::new();
        for (id, res) in self.resources_of_type("AWS::Serverless::Function") {
            let binary = res
                .get("Metadata")
                .and_then(|m| m.get("BuildProperties"))
                .and_then(|b| str_of(b, "Binary"))
                .ok_or_else(|| err(format!("{id} has no Metadata.BuildProperties.Binary")))?;
            let handler = res
                .get("Properties")
                .and_then(|p| str_of(p, "Handler"))
                .or(self.globals_handler.as_deref())
                .ok_or_else(|| err(format!("{id} has no Handler")))?;
            let mut environment: BTreeMap<String, Value> =
                self.globals_env.iter().filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.clone()))).collect();
            let own = res.get("Properties").and_then(|p| p.get("Environment")).and_then(|e| e.get("Variables"));
            if let Some(Value::Mapping(own)) = own {
                environment.extend(own.iter().filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.clone()))));
            }
            let properties = res.get("Properties");
            let policies = properties.and_then(|p| p.get("Policies")).and_then(Value::as_sequence).cloned().unwrap_or_default();
            let timeout = properties.and_then(|p| p.get("Timeout")).and_then(Value::as_u64).or(self.globals_timeout).unwrap_or(3);
            let memory_mb = properties.and_then(|p| p.get("MemorySize")).and_then(Value::as_u64).or(self.globals_memory).unwrap_or(128);
            out.push(FunctionDef {
                logical_id: id.to_owned(),
                binary: binary.to_owned(),
                handler: handler.to_owned(),
                environment,
                policies,
                timeout: std::time::Duration::from_secs(timeout),
                memory_mb,
            });
        }
        Ok(out)
    }

    /// The WebSocket API and its routes, each resolved to the function behind it.
    pub fn websocket_api(&self) -> Result<WsApi, LocalError> {
        let (api_id, api) = self
            .resources_of_type("AWS::ApiGatewayV2::Api")
            .find(|(_, res)| res.get("Properties").and_then(|p| str_of(p, "ProtocolType")) == Some("WEBSOCKET"))
            .ok_or_else(|| err("template has no WebSocket API"))?;
        let selection = api
            .get("Properties")
            .and_then(|p| str_of(p, "RouteSelectionExpression"))
            .ok_or_else(|| err("WebSocket API has no RouteSelectionExpression"))?;
        let mut routes = Vec::new();
        for (id, route) in self.resources_of_type("AWS::ApiGatewayV2::Route") {
            let props = route.get("Properties").ok_or_else(|| err(format!("{id} has no Properties")))?;
            if props.get("ApiId").and_then(referenced_resource).as_deref() != Some(api_id) {
                continue;
            }
            let route_key = str_of(props, "RouteKey").ok_or_else(|| err(format!("{id} has no RouteKey")))?;
            let integration = props.get("Target").and_then(referenced_resource).ok_or_else(|| err(format!("{id} has no Target")))?;
            let function = self.function_behind(&integration, "IntegrationUri")?;
            let authorizer = match props.get("AuthorizerId").and_then(referenced_resource) {
                Some(authorizer) => Some(self.function_behind(&authorizer, "AuthorizerUri")?),
                None => None,
            };
            let has_response_resource = self
                .resources_of_type("AWS::ApiGatewayV2::RouteResponse")
                .any(|(_, rr)| rr.get("Properties").and_then(|p| p.get("RouteId")).and_then(referenced_resource).as_deref() == Some(id));
            let has_route_response = props.get("RouteResponseSelectionExpression").is_some() && has_response_resource;
            routes.push(WsRoute { route_key: route_key.to_owned(), function, authorizer, has_route_response });
        }
        Ok(WsApi { logical_id: api_id.to_owned(), route_selection_expression: selection.to_owned(), routes })
    }

    /// The `StageName` of the WebSocket API's stage (IAM ARNs name it).
    pub fn websocket_stage_name(&self, api: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, LocalError> {
        let stage = self
            .resources_of_type("AWS::ApiGatewayV2::Stage")
            .filter_map(|(_, res)| res.get("Properties"))
            .find(|p| p.get("ApiId").and_then(referenced_resource).as_deref() == Some(api))
            .and_then(|p| p.get("StageName"))
            .ok_or_else(|| err(format!("{api} has no stage")))?;
        resolve(stage, lookup)
    }

    /// The function an integration or authorizer invokes (its `...${Fn.Arn}...` URI).
    fn function_behind(&self, logical_id: &str, uri_property: &str) -> Result<String, LocalError> {
        let res = self.resource(logical_id).ok_or_else(|| err(format!("{logical_id} is referenced but not defined")))?;
        let uri =
            res.get("Properties").and_then(|p| p.get(uri_property)).ok_or_else(|| err(format!("{logical_id} has no {uri_property}")))?;
        let function = referenced_resource(uri).ok_or_else(|| err(format!("{logical_id}.{uri_property} names no function")))?;
        match self.resource_type(&function) {
            Some("AWS::Serverless::Function") => Ok(function),
            _ => Err(err(format!("{logical_id} points at {function}, which is not a function"))),
        }
    }

    pub fn tables(&self) -> Result<Vec<TableDef>, LocalError> {
        let pairs = |props: &Value, list: &str, a: &str, b: &str| -> Vec<(String, String)> {
            props
                .get(list)
                .and_then(Value::as_sequence)
                .map(|seq| seq.iter().filter_map(|e| Some((str_of(e, a)?.to_owned(), str_of(e, b)?.to_owned()))).collect())
                .unwrap_or_default()
        };
        let mut out = Vec::new();
        for (id, res) in self.resources_of_type("AWS::DynamoDB::Table") {
            let props = res.get("Properties").ok_or_else(|| err(format!("{id} has no Properties")))?;
            let ttl = props.get("TimeToLiveSpecification").filter(|t| t.get("Enabled").and_then(Value::as_bool) == Some(true));
            let indexes = props
                .get("GlobalSecondaryIndexes")
                .and_then(Value::as_sequence)
                .map(|list| {
                    list.iter()
                        .filter_map(|gsi| {
                            Some(IndexDef {
                                name: str_of(gsi, "IndexName")?.to_owned(),
                                key_schema: pairs(gsi, "KeySchema", "AttributeName", "KeyType"),
                                projection: gsi.get("Projection").and_then(|p| str_of(p, "ProjectionType")).unwrap_or("ALL").to_owned(),
                                non_key_attributes: gsi
                                    .get("Projection")
                                    .and_then(|p| p.get("NonKeyAttributes"))
                                    .and_then(Value::as_sequence)
                                    .map(|names| names.iter().filter_map(|n| n.as_str().map(str::to_owned)).collect())
                                    .unwrap_or_default(),
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            out.push(TableDef {
                logical_id: id.to_owned(),
                attributes: pairs(props, "AttributeDefinitions", "AttributeName", "AttributeType"),
                key_schema: pairs(props, "KeySchema", "AttributeName", "KeyType"),
                indexes,
                ttl_attribute: ttl.and_then(|t| str_of(t, "AttributeName")).map(str::to_owned),
                stream_view_type: props.get("StreamSpecification").and_then(|s| str_of(s, "StreamViewType")).map(str::to_owned),
            });
        }
        Ok(out)
    }
}

impl Template {
    /// Every DynamoDB stream event source of every function.
    pub fn stream_sources(&self) -> Result<Vec<StreamSource>, LocalError> {
        let mut out = Vec::new();
        for (id, res) in self.resources_of_type("AWS::Serverless::Function") {
            let Some(Value::Mapping(events)) = res.get("Properties").and_then(|p| p.get("Events")) else { continue };
            for (name, event) in events {
                if str_of(event, "Type") != Some("DynamoDB") {
                    continue;
                }
                let props = event.get("Properties").ok_or_else(|| err(format!("{id} event {name:?} has no Properties")))?;
                let table = props
                    .get("Stream")
                    .and_then(referenced_resource)
                    .ok_or_else(|| err(format!("{id}: Stream must be !GetAtt <Table>.StreamArn")))?;
                let number = |key: &str, default: u64| props.get(key).and_then(Value::as_u64).unwrap_or(default);
                let reports = props
                    .get("FunctionResponseTypes")
                    .and_then(Value::as_sequence)
                    .is_some_and(|types| types.iter().any(|t| t.as_str() == Some("ReportBatchItemFailures")));
                let mut event_names = Vec::new();
                for filter in props.get("FilterCriteria").and_then(|f| f.get("Filters")).and_then(Value::as_sequence).into_iter().flatten()
                {
                    let pattern: serde_json::Value = serde_json::from_str(str_of(filter, "Pattern").unwrap_or("{}"))
                        .map_err(|e| err(format!("{id}: filter pattern is not JSON: {e}")))?;
                    let names = pattern
                        .get("eventName")
                        .and_then(|n| n.as_array())
                        .ok_or_else(|| err(format!("{id}: only eventName filters are supported locally")))?;
                    event_names.extend(names.iter().filter_map(|n| n.as_str().map(str::to_owned)));
                }
                out.push(StreamSource {
                    function: id.to_owned(),
                    table,
                    starting_position: str_of(props, "StartingPosition").unwrap_or("LATEST").to_owned(),
                    batch_size: number("BatchSize", 100) as usize,
                    batching_window_secs: number("MaximumBatchingWindowInSeconds", 0),
                    maximum_retry_attempts: number("MaximumRetryAttempts", 10_000) as usize,
                    parallelization_factor: number("ParallelizationFactor", 1).clamp(1, 10) as usize,
                    report_batch_item_failures: reports,
                    event_names,
                });
            }
        }
        Ok(out)
    }
}

/// A function's `Events` entry of type Schedule with a `rate(...)` expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleSource {
    pub function: String,
    pub every: std::time::Duration,
}

/// `rate(1 hour)`, `rate(5 minutes)`, `rate(1 day)`.
pub fn parse_rate(expression: &str) -> Option<std::time::Duration> {
    let inner = expression.trim().strip_prefix("rate(")?.strip_suffix(')')?;
    let (amount, unit) = inner.trim().split_once(' ')?;
    let amount: u64 = amount.parse().ok()?;
    let seconds = match unit.trim().trim_end_matches('s') {
        "minute" => 60,
        "hour" => 3600,
        "day" => 86_400,
        _ => return None,
    };
    Some(std::time::Duration::from_secs(amount * seconds))
}

impl Template {
    /// Every scheduled function (only `rate(...)` schedules run locally).
    pub fn schedules(&self) -> Result<Vec<ScheduleSource>, LocalError> {
        let mut out = Vec::new();
        for (id, res) in self.resources_of_type("AWS::Serverless::Function") {
            let Some(Value::Mapping(events)) = res.get("Properties").and_then(|p| p.get("Events")) else { continue };
            for event in events.values().filter(|e| str_of(e, "Type") == Some("Schedule")) {
                let expression = event.get("Properties").and_then(|p| str_of(p, "Schedule")).unwrap_or_default();
                let every =
                    parse_rate(expression).ok_or_else(|| err(format!("{id}: only rate(...) schedules run locally, not {expression:?}")))?;
                out.push(ScheduleSource { function: id.to_owned(), every });
            }
        }
        Ok(out)
    }
}

/// One route of the HTTP API: a function's `Events` entry of type HttpApi.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRoute {
    pub method: String,
    /// `/chats/{chatId}/messages`.
    pub path: String,
    pub function: String,
}

/// The HTTP API's Lambda authorizer (payload 2.0, simple responses).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpAuthorizer {
    pub function: String,
    /// Headers that must be present, or API Gateway answers 401 without asking.
    pub identity_headers: Vec<String>,
}

/// The HTTP API's `CorsConfiguration`: API Gateway answers preflights itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cors {
    pub allow_origins: Vec<String>,
    pub allow_headers: Vec<String>,
    pub allow_methods: Vec<String>,
    pub max_age: Option<u64>,
}

#[derive(Clone, Debug)]
pub struct HttpApi {
    pub routes: Vec<HttpRoute>,
    pub authorizer: Option<HttpAuthorizer>,
    pub cors: Option<Cors>,
}

impl Template {
    /// A bucket's `CorsConfiguration.CorsRules` (references resolved through
    /// `lookup`): what S3 answers browsers' preflights and cross-origin
    /// requests with.
    pub fn bucket_cors(&self, logical_id: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Vec<Cors>, LocalError> {
        let rules = self
            .resource(logical_id)
            .and_then(|r| r.get("Properties"))
            .and_then(|p| p.get("CorsConfiguration"))
            .and_then(|c| c.get("CorsRules"))
            .and_then(Value::as_sequence);
        rules
            .into_iter()
            .flatten()
            .map(|rule| {
                let list = |key: &str| -> Result<Vec<String>, LocalError> {
                    rule.get(key).and_then(Value::as_sequence).into_iter().flatten().map(|v| resolve(v, lookup)).collect()
                };
                Ok(Cors {
                    allow_origins: list("AllowedOrigins")?,
                    allow_headers: list("AllowedHeaders")?,
                    allow_methods: list("AllowedMethods")?,
                    max_age: rule.get("MaxAge").and_then(Value::as_u64),
                })
            })
            .collect()
    }

    /// The `AWS::Serverless::HttpApi`, if any, with its routes, default
    /// authorizer and CORS settings (references resolved through `lookup`).
    pub fn http_api(&self, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Option<HttpApi>, LocalError> {
        let Some((api_id, api)) = self.resources_of_type("AWS::Serverless::HttpApi").next() else { return Ok(None) };
        let cors = match api.get("Properties").and_then(|p| p.get("CorsConfiguration")) {
            None => None,
            Some(config) => {
                let list = |key: &str| -> Result<Vec<String>, LocalError> {
                    config.get(key).and_then(Value::as_sequence).into_iter().flatten().map(|v| resolve(v, lookup)).collect()
                };
                Some(Cors {
                    allow_origins: list("AllowOrigins")?,
                    allow_headers: list("AllowHeaders")?.into_iter().map(|h| h.to_ascii_lowercase()).collect(),
                    allow_methods: list("AllowMethods")?,
                    max_age: config.get("MaxAge").and_then(Value::as_u64),
                })
            }
        };
        let auth = api.get("Properties").and_then(|p| p.get("Auth"));
        let authorizer = match auth.and_then(|a| str_of(a, "DefaultAuthorizer")) {
            None => None,
            Some(name) => {
                let def = auth
                    .and_then(|a| a.get("Authorizers"))
                    .and_then(|a| a.get(name))
                    .ok_or_else(|| err(format!("{api_id}: authorizer {name} is not defined")))?;
                if str_of(def, "AuthorizerPayloadFormatVersion") != Some("2.0")
                    || def.get("EnableSimpleResponses").and_then(Value::as_bool) != Some(true)
                {
                    return Err(err(format!("{api_id}: only Lambda authorizers with payload 2.0 and simple responses run locally")));
                }
                let function = def
                    .get("FunctionArn")
                    .and_then(referenced_resource)
                    .ok_or_else(|| err(format!("{api_id}: authorizer {name} names no function")))?;
                let identity_headers = def
                    .get("Identity")
                    .and_then(|i| i.get("Headers"))
                    .and_then(Value::as_sequence)
                    .map(|h| h.iter().filter_map(|v| v.as_str().map(str::to_ascii_lowercase)).collect())
                    .unwrap_or_default();
                Some(HttpAuthorizer { function, identity_headers })
            }
        };
        let mut routes = Vec::new();
        for (id, res) in self.resources_of_type("AWS::Serverless::Function") {
            let Some(Value::Mapping(events)) = res.get("Properties").and_then(|p| p.get("Events")) else { continue };
            for event in events.values().filter(|e| str_of(e, "Type") == Some("HttpApi")) {
                let props = event.get("Properties").ok_or_else(|| err(format!("{id}: HttpApi event without Properties")))?;
                if props.get("ApiId").and_then(referenced_resource).as_deref() != Some(api_id) {
                    continue;
                }
                let method = str_of(props, "Method").ok_or_else(|| err(format!("{id}: HttpApi event without Method")))?;
                let path = str_of(props, "Path").ok_or_else(|| err(format!("{id}: HttpApi event without Path")))?;
                routes.push(HttpRoute { method: method.to_ascii_uppercase(), path: path.to_owned(), function: id.to_owned() });
            }
        }
        Ok(Some(HttpApi { routes, authorizer, cors }))
    }
}

/// A plain scalar as a string (numbers and booleans included).
pub fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Resolves a value the way CloudFormation would, given what each `!Ref`,
/// `!GetAtt X.Attr` and `${X}`/`${X.Attr}` stands for locally.
pub fn resolve(value: &Value, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, LocalError> {
    if let Some(s) = scalar(value) {
        return Ok(s);
    }
    let (tag, inner) = tagged(value).ok_or_else(|| err(format!("cannot resolve {value:?}")))?;
    match tag.as_str() {
        "Ref" => {
            let name = inner.as_str().ok_or_else(|| err("!Ref needs a name"))?;
            lookup(name).ok_or_else(|| err(format!("nothing local stands for !Ref {name}")))
        }
        "GetAtt" => {
            let name = match inner {
                Value::Sequence(parts) => parts.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("."),
                other => other.as_str().ok_or_else(|| err("!GetAtt needs Resource.Attribute"))?.to_owned(),
            };
            lookup(&name).ok_or_else(|| err(format!("nothing local stands for !GetAtt {name}")))
        }
        "Sub" => {
            let mut text = inner.as_str().ok_or_else(|| err("only the string form of !Sub is supported"))?.to_owned();
            for reference in sub_references(&text.clone()) {
                let value = lookup(&reference).ok_or_else(|| err(format!("nothing local stands for ${{{reference}}}")))?;
                text = text.replace(&format!("${{{reference}}}"), &value);
            }
            Ok(text)
        }
        other => Err(err(format!("!{other} is not supported locally"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"
Parameters:
  Secret: { Type: String, Default: abc }
Globals:
  Function:
    Environment:
      Variables:
        TABLE: !Ref T
        URL: !Sub "https://${Api}.example/${Secret}"
Resources:
  Api: { Type: AWS::ApiGatewayV2::Api, Properties: { ProtocolType: WEBSOCKET, RouteSelectionExpression: $request.body.action } }
  R1: { Type: AWS::ApiGatewayV2::Route, Properties: { ApiId: !Ref Api, RouteKey: go, Target: !Sub "integrations/${I1}", RouteResponseSelectionExpression: $default } }
  R1Response: { Type: AWS::ApiGatewayV2::RouteResponse, Properties: { ApiId: !Ref Api, RouteId: !Ref R1, RouteResponseKey: $default } }
  I1: { Type: AWS::ApiGatewayV2::Integration, Properties: { ApiId: !Ref Api, IntegrationUri: !Sub "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${GoFunction.Arn}/invocations" } }
  GoFunction: { Type: AWS::Serverless::Function, Metadata: { BuildProperties: { Binary: bootstrap } }, Properties: { Handler: go, Environment: { Variables: { OWN: 5 } } } }
  T: { Type: AWS::DynamoDB::Table, Properties: { AttributeDefinitions: [{AttributeName: k, AttributeType: S}], KeySchema: [{AttributeName: k, KeyType: HASH}], TimeToLiveSpecification: { AttributeName: exp, Enabled: true } } }
"#;

    #[test]
    fn routes_resolve_to_functions_through_integrations() {
        let t = Template::parse(TEMPLATE).unwrap();
        let api = t.websocket_api().unwrap();
        assert_eq!(api.route_selection_expression, "$request.body.action");
        assert_eq!(
            api.routes,
            vec![WsRoute { route_key: "go".into(), function: "GoFunction".into(), authorizer: None, has_route_response: true }]
        );
    }

    #[test]
    fn environment_merges_globals_and_resolves_references() {
        let t = Template::parse(TEMPLATE).unwrap();
        let f = &t.functions().unwrap()[0];
        assert_eq!((f.binary.as_str(), f.handler.as_str()), ("bootstrap", "go"));
        let lookup = |name: &str| match name {
            "T" => Some("local-T".to_owned()),
            "Api" => Some("local".to_owned()),
            "Secret" => t.parameter_default("Secret"),
            _ => None,
        };
        assert_eq!(resolve(&f.environment["TABLE"], &lookup).unwrap(), "local-T");
        assert_eq!(resolve(&f.environment["URL"], &lookup).unwrap(), "https://local.example/abc");
        assert_eq!(resolve(&f.environment["OWN"], &lookup).unwrap(), "5");
    }

    #[test]
    fn rate_expressions_parse() {
        assert_eq!(parse_rate("rate(1 hour)"), Some(std::time::Duration::from_secs(3600)));
        assert_eq!(parse_rate("rate(5 minutes)"), Some(std::time::Duration::from_secs(300)));
        assert_eq!(parse_rate("cron(0 * * * ? *)"), None);
    }

    #[test]
    fn tables_keep_keys_and_ttl() {
        let t = Template::parse(TEMPLATE).unwrap();
        let tables = t.tables().unwrap();
        assert_eq!(tables[0].key_schema, vec![("k".to_owned(), "HASH".to_owned())]);
        assert_eq!(tables[0].ttl_attribute.as_deref(), Some("exp"));
    }
}
