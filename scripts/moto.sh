#!/usr/bin/env bash
# Helpers for a local AWS-compatible endpoint (moto_server), sourced by the
# other scripts. Installs a pinned moto into target/moto-venv (never system-wide),
# starts it on a free loopback port, and stops it again.

MOTO_VERSION="5.2.6"
MOTO_VENV="${MOTO_VENV:-$(pwd)/target/moto-venv}"

# Installs moto[server] into the project's venv if it is not there yet.
moto_install() {
  if [ -x "$MOTO_VENV/bin/moto_server" ] && "$MOTO_VENV/bin/python" -c "import moto, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
    return 0
  fi
  echo "installing moto[server]==$MOTO_VERSION into $MOTO_VENV" >&2
  mkdir -p "$(dirname "$MOTO_VENV")"
  python3 -m venv "$MOTO_VENV"
  "$MOTO_VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
}

# A free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Starts moto_server (through scripts/moto_server.py, which mends where moto's
# answers differ from AWS's) on a free loopback port; sets MOTO_PID and MOTO_URL.
moto_start() {
  local port
  port=$(free_port)
  MOTO_IAM_LOAD_MANAGED_POLICIES=true "$MOTO_VENV/bin/python" scripts/moto_server.py -H 127.0.0.1 -p "$port" >"${MOTO_LOG:-/dev/null}" 2>&1 &
  MOTO_PID=$!
  MOTO_URL="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do
    if python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  echo "moto_server did not start on port $port" >&2
  return 1
}

# Stops the moto_server started by moto_start.
moto_stop() {
  if [ -n "${MOTO_PID:-}" ]; then
    kill "$MOTO_PID" 2>/dev/null || true
    wait "$MOTO_PID" 2>/dev/null || true
    MOTO_PID=""
  fi
}

# Points the AWS SDK at the local endpoint with throwaway credentials, so no
# real account is ever touched, whatever the caller's environment holds.
use_local_endpoint() {
  unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
  export AWS_ENDPOINT_URL="$MOTO_URL"
  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
  export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
  export AWS_REGION="${AWS_REGION_FOR_DEMO:-eu-west-1}"
}
