#!/usr/bin/env bash
# Start a real `safeguard serve` on a fresh SQLite data directory and let schemathesis exercise every
# operation of its OpenAPI document with a valid admin key: any 5xx fails the run.
set -euo pipefail
HOME_DIR=$(mktemp -d)
PORT=${SCHEMATHESIS_PORT:-18765}
LOG="$HOME_DIR/serve.log"
export SAFEGUARD_HOME="$HOME_DIR"
safeguard serve --host 127.0.0.1 --port "$PORT" >"$LOG" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$HOME_DIR"' EXIT
for _ in $(seq 60); do
  curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null
# Keys made before the fuzzing key so that fuzzed "revoke key N" calls rarely hit the key in use.
KEY=$(python - <<'PY'
from safeguard.auth import Actor, Role
from safeguard.auth import service as keys
from safeguard.config import get_settings
from safeguard.store.db import Database

db = Database(get_settings().resolved_database_url)
with db.session() as session:
    for i in range(40):
        keys.create_key(session, Actor.system("ci"), name=f"filler {i}", role=Role.moderator)
    print(keys.create_key(session, Actor.system("ci"), name="schemathesis", role=Role.admin).key)
PY
)
schemathesis run "http://127.0.0.1:$PORT/openapi.json" \
  --checks not_a_server_error \
  --header "Authorization: Bearer $KEY" \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-40}" \
  --request-timeout 30 \
  --generation-deterministic \
  --suppress-health-check all || { echo "--- server log"; tail -50 "$LOG"; exit 1; }
