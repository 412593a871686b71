#!/usr/bin/env bash
# Sets up everything the tests need on a fresh machine and runs them all: Rust unit and
# integration tests (real ONNX Runtime, real models, Qdrant Edge, SQLite), the SQL store tests
# on PostgreSQL, the scale-out tests (when a Qdrant server was built with
# scripts/qdrant-server.sh build), the OpenAI-client test, the hostile-input suite over HTTP and
# the browser tests (Chromium + Playwright).
source "$(dirname "$0")/setup.sh"
ensure_rust
extra=(chromium postgresql)
command -v npm >/dev/null || extra+=(nodejs npm)
ensure_debian_packages "${extra[@]}"
step "format and lints (cargo fmt --check, cargo clippy -D warnings)"
(cd "$ROOT" && cargo fmt --all --check)
(cd "$ROOT" && cargo clippy --release --locked --workspace --all-targets -- -D warnings)
build_release
pull_models ort-cpu default smollm2 ocr lexicon test-photos

export PYXA_TEST_GGUF="$("$PYXA_BIN" models list | python3 -c 'import json,sys; a={x["artifact"]:x for x in json.load(sys.stdin)["artifacts"]}; print(a["smollm2"]["path"])')/SmolLM2-135M-Instruct.Q4_1.gguf"
export PYXA_BIN

step "Rust tests (release): fast ones with fakes first, then the real-model end-to-end ones"
(cd "$ROOT" && cargo test --release --locked --workspace --no-fail-fast -- --skip e2e_)
(cd "$ROOT" && cargo test --release --locked -p pyxa --test api --no-fail-fast -- e2e_)

step "SQL store tests on PostgreSQL"
(cd "$ROOT" && bash services/pyxa-meta/tests/with-postgres.sh cargo test --release --locked --workspace --test store)

step "scale-out: Qdrant server contract, two pyxa replicas on PostgreSQL and a 3-node Qdrant cluster (skipped loudly without a Qdrant build)"
bash "$ROOT/tests/scale/run.sh"

step "hostile-input suite (malformed, oversized, concurrent, cancelled and slow requests) against a real pyxa serve"
bash "$ROOT/tests/hostile/run.sh"

step "browser tests (Chromium + Playwright) against a real pyxa serve"
bash "$ROOT/tests/browser/run.sh"
