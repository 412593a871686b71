#!/usr/bin/env bash
# Starts a real `pyxa serve` (real models, SQLite and Qdrant Edge in a temp dir, API keys
# enforced by an admin key) on a free loopback port and runs the hostile-input suite against it.
# Arguments go to hostile.py (`--only SUBSTRING`, `--list`). Builds nothing.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
PYXA_BIN="${PYXA_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/pyxa/target}/release/pyxa}"
PYXA_HOME="${PYXA_HOME:-$HOME/.cache/pyxa}"

case " $* " in *" --list "*) exec python3 "$HERE/hostile.py" "$@" ;; esac
[ -x "$PYXA_BIN" ] || { echo "no pyxa binary at $PYXA_BIN (cargo build --release -p pyxa, or set PYXA_BIN)"; exit 2; }

DATA="$(mktemp -d /tmp/pyxa-hostile-XXXXXX)"
# A copy: the original may be rebuilt while the suite runs.
cp "$PYXA_BIN" "$DATA/pyxa"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
ADMIN_KEY="admin-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
PYXA_ADMIN_KEY="$ADMIN_KEY" PYXA_LLM="${PYXA_LLM:-small}" PYXA_LLM_PARALLEL=2 \
    "$DATA/pyxa" serve --host 127.0.0.1 --port "$PORT" --data-dir "$DATA/data" > "$DATA/server.log" 2>&1 &
SERVER=$!
cleanup() {
    kill "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
    rm -rf "$DATA"
}
trap cleanup EXIT

ready=0
for _ in $(seq 1 240); do
    if curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; then ready=1; break; fi
    kill -0 "$SERVER" 2>/dev/null || { echo "pyxa exited during start-up"; cat "$DATA/server.log"; exit 1; }
    sleep 0.5
done
[ $ready -eq 1 ] || { echo "pyxa did not become ready"; tail -50 "$DATA/server.log"; exit 1; }

export PYXA_URL="http://127.0.0.1:$PORT"
export PYXA_ADMIN_KEY="$ADMIN_KEY"
export PYXA_PID="$SERVER"
export PYXA_TEST_IMAGES="${PYXA_TEST_IMAGES:-$PYXA_HOME/test-photos}"

status=0
python3 "$HERE/hostile.py" "$@" || status=$?
if [ $status -ne 0 ]; then
    echo "--- server log (last 60 lines) ---"
    tail -60 "$DATA/server.log"
fi
exit $status
