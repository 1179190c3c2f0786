# Sourced by scripts/dev and scripts/test: installs and starts the local AWS
# server (moto: DynamoDB, DynamoDB Streams, S3, SNS) from a project-local venv.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
MOTO_VERSION="5.2.5"
# Deployment tooling, also from PyPI: cargo-lambda (with zig) and cfn-lint.
DEPLOY_TOOLS=("cargo-lambda==1.9.2" "ziglang==0.17.1" "cfn-lint==1.58.0")

ensure_moto() {
  if [ ! -x "$VENV/bin/moto_server" ] || ! "$VENV/bin/python" -c "import moto, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
    echo "==> installing moto[server]==$MOTO_VERSION into $VENV" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
  fi
}

ensure_deploy_tools() {
  ensure_moto
  if [ ! -x "$VENV/bin/cargo-lambda" ] || [ ! -x "$VENV/bin/cfn-lint" ] || ! "$VENV/bin/python" -c "import ziglang" 2>/dev/null; then
    echo "==> installing ${DEPLOY_TOOLS[*]} into $VENV" >&2
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "${DEPLOY_TOOLS[@]}"
  fi
  if ! rustup target list --installed | grep -qx aarch64-unknown-linux-gnu; then
    echo "==> adding the aarch64-unknown-linux-gnu Rust target" >&2
    rustup target add aarch64-unknown-linux-gnu
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_moto PORT LOGFILE: starts moto in the background, waits until it answers,
# and exports the standard AWS SDK variables that point every client at it.
start_moto() {
  local port="$1" log="$2"
  # Exported first: moto verifies presigned S3 URLs with the same secret.
  export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
  export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
  export AWS_REGION="${AWS_REGION:-us-east-1}"
  export AWS_EC2_METADATA_DISABLED=true
  "$VENV/bin/python" "$ROOT/scripts/moto_server.py" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
  MOTO_PID=$!
  for _ in $(seq 1 100); do
    if curl -fs -o /dev/null "http://127.0.0.1:$port/moto-api/"; then
      break
    fi
    if ! kill -0 "$MOTO_PID" 2>/dev/null; then
      echo "moto failed to start; see $log" >&2
      return 1
    fi
    sleep 0.1
  done
  export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
}
