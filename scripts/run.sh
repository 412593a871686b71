#!/usr/bin/env bash
# Sets up everything pyxa needs on a fresh machine and runs it with the embedded defaults
# (local models, Qdrant Edge and SQLite in ./pyxa-data). Extra arguments go to `pyxa serve`.
source "$(dirname "$0")/setup.sh"
ensure_rust
ensure_debian_packages
build_release
pull_models
step "starting pyxa (Ctrl-C stops it)"
exec "$PYXA_BIN" serve --data-dir "${PYXA_DATA_DIR:-$ROOT/pyxa-data}" "$@"
