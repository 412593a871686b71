#!/usr/bin/env bash
# Starts a real `pyxa serve` (real models, Qdrant Edge, SQLite in a temp dir) on a free loopback
# port and runs the Playwright tests in Debian's Chromium against it.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PYXA_BIN="${PYXA_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/pyxa/target}/release/pyxa}"
PYXA_HOME="${PYXA_HOME:-$HOME/.cache/pyxa}"

(cd "$HERE" && { [ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund; })

DATA="$(mktemp -d /tmp/pyxa-browser-XXXXXX)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
# The small local model keeps answers quick and the same on every machine (`--llm auto` would
# pick the 1.5B model wherever it is provisioned).
PYXA_LLM="${PYXA_LLM:-small}" "$PYXA_BIN" serve --host 127.0.0.1 --port "$PORT" --data-dir "$DATA" > "$DATA/server.log" 2>&1 &
SERVER=$!
# A second server that needs API keys (its own data dir), for keys.test.mjs.
KEYS_DATA="$DATA/keys"
KEYS_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
export PYXA_KEYS_ADMIN="admin-$RANDOM$RANDOM"
PYXA_ADMIN_KEY="$PYXA_KEYS_ADMIN" PYXA_LLM="${PYXA_LLM:-small}" PYXA_LLM_PARALLEL=2 "$PYXA_BIN" serve --host 127.0.0.1 \
    --port "$KEYS_PORT" --data-dir "$KEYS_DATA" > "$DATA/keys-server.log" 2>&1 &
KEYS_SERVER=$!
cleanup() {
    kill "$SERVER" "$KEYS_SERVER" 2>/dev/null || true
    wait "$SERVER" "$KEYS_SERVER" 2>/dev/null || true
    rm -rf "$DATA"
}
trap cleanup EXIT
wait_ready() { # port pid log
    for _ in $(seq 1 240); do
        curl -fsS "http://127.0.0.1:$1/health" >/dev/null 2>&1 && return 0
        kill -0 "$2" 2>/dev/null || { cat "$3"; exit 1; }
        sleep 0.5
    done
    echo "pyxa did not become ready"; cat "$3"; exit 1
}
wait_ready "$PORT" "$SERVER" "$DATA/server.log"
wait_ready "$KEYS_PORT" "$KEYS_SERVER" "$DATA/keys-server.log"
export PYXA_KEYS_URL="http://127.0.0.1:$KEYS_PORT"

export PYXA_URL="http://127.0.0.1:$PORT"
export PYXA_TEST_IMAGES="$PYXA_HOME/test-photos"
export PYXA_ARTIFACTS="${PYXA_ARTIFACTS:-$ROOT/artifacts}"
mkdir -p "$PYXA_ARTIFACTS"
cd "$HERE"
status=0
node --test --test-concurrency=1 portal.test.mjs documents.test.mjs ui.test.mjs keys.test.mjs || status=$?
if [ $status -ne 0 ]; then echo "--- server log ---"; tail -50 "$DATA/server.log"; fi
exit $status
