#!/usr/bin/env bash
# A Qdrant server for pyxa's scale-out path, built from source and run on loopback.
#
#   scripts/qdrant-server.sh build            build the pinned release into the cache (idempotent)
#   scripts/qdrant-server.sh path             print the binary's path; exit 1 when it is not built
#   scripts/qdrant-server.sh start [N]        start N nodes (1 = single node, 3 = a cluster)
#   scripts/qdrant-server.sh stop             stop the nodes started from this state folder
#   scripts/qdrant-server.sh kill K           kill node K (1-based) hard, keeping its storage
#   scripts/qdrant-server.sh restart K        start node K again on its storage
#   scripts/qdrant-server.sh status           which nodes run, with their URLs
#
# Environment:
#   PYXA_HOME               cache root (default ~/.cache/pyxa); the build lives in $PYXA_HOME/qdrant
#   PYXA_QDRANT_GIT         where to clone Qdrant from (default GitHub); a local mirror works
#   PYXA_RAFT_GIT           where to clone tikv/raft-rs from (default GitHub)
#   PYXA_QDRANT_PROFILE     cargo profile: `perf` (default: optimised, no fat LTO, builds in
#                           about half the time) or `release` (Qdrant's shipping profile)
#   PYXA_QDRANT_STATE       folder for the nodes' storage, logs and pids (default a temp folder
#                           recorded in $PYXA_HOME/qdrant/last-state)
#   PYXA_QDRANT_BASE_PORT   first node's REST port (default 16333); node k uses
#                           base+10(k-1) for REST, +1 for gRPC, +2 for peer-to-peer
#
# Why from source: no package registry ships a Qdrant server. Two of v1.18.3's git dependencies
# cannot be fetched through crates.io: tikv/raft-rs at a pinned revision (cloned and used as a
# path dependency) and Qdrant's tonic fork (dropped for crates.io tonic 0.14.6, which lacks one
# builder method Qdrant calls; that call only tunes HTTP/2 reset-stream accounting).
set -euo pipefail

QDRANT_TAG=v1.18.3
RAFT_REV=aafb07c7bab439c6139926a77dfafc5b10e9bc84
PYXA_HOME="${PYXA_HOME:-$HOME/.cache/pyxa}"
CACHE="$PYXA_HOME/qdrant/$QDRANT_TAG"
BIN="$CACHE/bin/qdrant"
PROFILE="${PYXA_QDRANT_PROFILE:-perf}"
BASE_PORT="${PYXA_QDRANT_BASE_PORT:-16333}"

say() { printf '\033[1m[qdrant]\033[0m %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

ensure_protoc() {
    command -v protoc >/dev/null && return
    say "installing Debian's protobuf-compiler (Qdrant's build generates its gRPC code)"
    local sudo=()
    [ "$(id -u)" = 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq protobuf-compiler
}

checkout() { # url rev dir
    local url=$1 rev=$2 dir=$3
    if [ -d "$dir/.git" ] && [ "$(git -C "$dir" rev-parse HEAD 2>/dev/null)" = "$(git -C "$dir" rev-parse "$rev^{commit}" 2>/dev/null)" ]; then
        return
    fi
    rm -rf "$dir"
    say "cloning $url at $rev"
    git clone -q --no-checkout "$url" "$dir"
    git -C "$dir" -c advice.detachedHead=false checkout -q "$rev"
}

# Rewrites the two dependencies that cannot be fetched here. Idempotent: each edit checks first.
patch_source() {
    local src=$1 raft=$2
    local manifest="$src/Cargo.toml"
    sed -i -E "s|raft = \{ git = \"https://github.com/tikv/raft-rs\", rev = \"$RAFT_REV\" ?,|raft = { path = \"$raft\",|" "$manifest"
    sed -i -E "s|raft-proto = \{ git = \"https://github.com/tikv/raft-rs\", rev = \"$RAFT_REV\",|raft-proto = { path = \"$raft/proto\",|" "$manifest"
    sed -i -E '/^tonic = \{ git = "https:\/\/github.com\/qdrant\/tonic"/d' "$manifest"
    sed -i -E 's/^(\s*)\.http2_max_local_error_reset_streams\(None\);/\1;/' "$src/lib/api/src/grpc/dynamic_channel_pool.rs"
    grep -q 'github.com/tikv/raft-rs' "$manifest" && die "could not point raft at $raft (has $QDRANT_TAG's Cargo.toml changed?)"
    grep -q 'http2_max_local_error_reset_streams' "$src/lib/api/src/grpc/dynamic_channel_pool.rs" \
        && die "could not remove the tonic-fork call"
    return 0
}

build() {
    if [ -x "$BIN" ] && [ -f "$CACHE/bin/built-from" ]; then
        say "already built: $BIN ($(cat "$CACHE/bin/built-from"))"
        return
    fi
    command -v cargo >/dev/null || die "cargo is needed (scripts/setup.sh installs it)"
    command -v git >/dev/null || die "git is needed"
    ensure_protoc
    mkdir -p "$CACHE"
    checkout "${PYXA_QDRANT_GIT:-https://github.com/qdrant/qdrant.git}" "$QDRANT_TAG" "$CACHE/src"
    checkout "${PYXA_RAFT_GIT:-https://github.com/tikv/raft-rs.git}" "$RAFT_REV" "$CACHE/raft-rs"
    patch_source "$CACHE/src" "$CACHE/raft-rs"
    say "building Qdrant $QDRANT_TAG (profile $PROFILE; about 25-50 minutes on 2 cores, once)"
    (cd "$CACHE/src" && CARGO_TARGET_DIR="$CACHE/target" cargo build --profile "$PROFILE" --bin qdrant)
    mkdir -p "$CACHE/bin"
    cp "$CACHE/target/$PROFILE/qdrant" "$BIN.tmp"
    mv "$BIN.tmp" "$BIN"
    echo "$QDRANT_TAG profile=$PROFILE raft=$RAFT_REV tonic=crates.io-0.14.6" > "$CACHE/bin/built-from"
    say "built: $BIN"
}

state_dir() {
    if [ -n "${PYXA_QDRANT_STATE:-}" ]; then
        echo "$PYXA_QDRANT_STATE"
    elif [ -f "$PYXA_HOME/qdrant/last-state" ]; then
        cat "$PYXA_HOME/qdrant/last-state"
    else
        die "no nodes were started (set PYXA_QDRANT_STATE or run start)"
    fi
}

rest_port() { echo $((BASE_PORT + 10 * ($1 - 1))); }
grpc_port() { echo $((BASE_PORT + 10 * ($1 - 1) + 1)); }
p2p_port() { echo $((BASE_PORT + 10 * ($1 - 1) + 2)); }

wait_ready() { # node
    local url="http://127.0.0.1:$(rest_port "$1")/readyz"
    for _ in $(seq 1 300); do
        curl -fsS "$url" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    die "node $1 did not become ready; see $(state_dir)/node$1.log"
}

launch() { # node nodes
    local k=$1 nodes=$2 state
    state=$(state_dir)
    mkdir -p "$state/node$k/storage" "$state/node$k/snapshots"
    local env=(
        QDRANT__STORAGE__STORAGE_PATH="$state/node$k/storage"
        QDRANT__STORAGE__SNAPSHOTS_PATH="$state/node$k/snapshots"
        QDRANT__SERVICE__HOST=127.0.0.1
        QDRANT__SERVICE__HTTP_PORT="$(rest_port "$k")"
        QDRANT__SERVICE__GRPC_PORT="$(grpc_port "$k")"
        QDRANT__TELEMETRY_DISABLED=true
        QDRANT__LOG_LEVEL="${QDRANT__LOG_LEVEL:-WARN}"
    )
    local args=()
    if [ "$nodes" -gt 1 ]; then
        env+=(QDRANT__CLUSTER__ENABLED=true QDRANT__CLUSTER__P2P__PORT="$(p2p_port "$k")")
        args+=(--uri "http://127.0.0.1:$(p2p_port "$k")")
        # A peer that has joined keeps its membership in its storage; bootstrap only the first time.
        if [ "$k" -gt 1 ] && [ ! -e "$state/node$k/storage/raft_state.json" ]; then
            args+=(--bootstrap "http://127.0.0.1:$(p2p_port 1)")
        fi
    fi
    # exec: the recorded pid is the server's own, so that stop and kill reach it.
    (cd "$state/node$k" && exec env "${env[@]}" nohup "$BIN" "${args[@]}" >>"$state/node$k.log" 2>&1) &
    echo $! >"$state/node$k.pid"
}

start() {
    local nodes=${1:-1}
    [ -x "$BIN" ] || die "not built; run: $0 build"
    local state="${PYXA_QDRANT_STATE:-$(mktemp -d "${TMPDIR:-/tmp}/pyxa-qdrant.XXXXXX")}"
    mkdir -p "$state" "$PYXA_HOME/qdrant"
    echo "$state" >"$PYXA_HOME/qdrant/last-state"
    export PYXA_QDRANT_STATE="$state"
    echo "$nodes" >"$state/nodes"
    for k in $(seq 1 "$nodes"); do
        launch "$k" "$nodes"
        # Peers join one at a time: the first must lead before the others bootstrap from it.
        wait_ready "$k"
    done
    status
}

status() {
    local state nodes
    state=$(state_dir)
    nodes=$(cat "$state/nodes" 2>/dev/null || echo 0)
    echo "state: $state"
    for k in $(seq 1 "$nodes"); do
        local pid="" up=down
        pid=$(cat "$state/node$k.pid" 2>/dev/null || true)
        [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && up=up
        echo "node $k: $up rest=http://127.0.0.1:$(rest_port "$k") grpc=http://127.0.0.1:$(grpc_port "$k")"
    done
}

wait_gone() { # pid
    for _ in $(seq 1 100); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -9 "$1" 2>/dev/null || true
}

kill_node() { # node
    local state pid
    state=$(state_dir)
    pid=$(cat "$state/node$1.pid" 2>/dev/null || true)
    if [ -n "$pid" ]; then
        kill -9 "$pid" 2>/dev/null || true
        wait_gone "$pid"
    fi
    rm -f "$state/node$1.pid"
}

stop() {
    local state nodes
    state=$(state_dir)
    nodes=$(cat "$state/nodes" 2>/dev/null || echo 0)
    for k in $(seq 1 "$nodes"); do
        local pid
        pid=$(cat "$state/node$k.pid" 2>/dev/null || true)
        if [ -n "$pid" ]; then
            kill "$pid" 2>/dev/null || true
            wait_gone "$pid"
        fi
        rm -f "$state/node$k.pid"
    done
}

case "${1:-}" in
    build) build ;;
    path) [ -x "$BIN" ] && echo "$BIN" || exit 1 ;;
    start) start "${2:-1}" ;;
    stop) stop ;;
    kill) kill_node "${2:?node number}" ;;
    restart)
        export PYXA_QDRANT_STATE="$(state_dir)"
        launch "${2:?node number}" "$(cat "$PYXA_QDRANT_STATE/nodes")"
        wait_ready "$2"
        ;;
    status) status ;;
    *) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
