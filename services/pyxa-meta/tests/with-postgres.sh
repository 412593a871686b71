#!/usr/bin/env bash
# Runs CMD with a throwaway PostgreSQL server and PYXA_TEST_DATABASE_URL pointing at it:
#
#   services/pyxa-meta/tests/with-postgres.sh cargo test --release -p pyxa-meta
#
# The cluster lives in $PYXA_PG_DIR (default /tmp/pyxa-pg-$PORT) and listens on 127.0.0.1:$PORT
# ($PYXA_PG_PORT, default 5433) and on a unix socket in that folder; trust auth, user postgres.
# Idempotent: a cluster already running there is reused (and left running); one this script
# started is stopped afterwards, and removed if this script created it (PYXA_PG_KEEP=1 keeps it).
# As root the server runs as the `postgres` user (runuser, no sudo); otherwise as the caller.
# The binaries come from $PG_BIN, else the newest /usr/lib/postgresql/*/bin, else PATH.
set -euo pipefail

if [ $# -eq 0 ]; then
    echo "usage: $0 CMD [ARGS...]" >&2
    exit 2
fi

port="${PYXA_PG_PORT:-5433}"
dir="${PYXA_PG_DIR:-/tmp/pyxa-pg-$port}"

if [ -z "${PG_BIN:-}" ]; then
    PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [ -z "$PG_BIN" ]; then
        PG_BIN="$(dirname "$(command -v initdb || command -v pg_ctl || echo /nonexistent/initdb)")"
    fi
fi
if [ ! -x "$PG_BIN/initdb" ] || [ ! -x "$PG_BIN/pg_ctl" ]; then
    echo "with-postgres: initdb/pg_ctl not found (set PG_BIN)" >&2
    exit 1
fi

# Run a command as the server's owner, from a folder that user can read.
if [ "$(id -u)" -eq 0 ]; then
    owner=postgres
    if ! id "$owner" >/dev/null 2>&1; then
        echo "with-postgres: running as root but there is no postgres user" >&2
        exit 1
    fi
    as_owner() { (cd / && runuser -u "$owner" -- "$@"); }
else
    owner="$(id -un)"
    as_owner() { (cd / && "$@"); }
fi

created=0
started=0
cleanup() {
    if [ "$started" -eq 1 ]; then
        as_owner "$PG_BIN/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
    fi
    if [ "$created" -eq 1 ] && [ "${PYXA_PG_KEEP:-0}" != 1 ]; then
        rm -rf "$dir"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ ! -f "$dir/PG_VERSION" ]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    chmod 700 "$dir"
    [ "$(id -u)" -eq 0 ] && chown "$owner" "$dir"
    created=1
    as_owner "$PG_BIN/initdb" -D "$dir" -U postgres --auth=trust --encoding=UTF8 --locale=C \
        >"$dir.initdb.log" 2>&1 || { cat "$dir.initdb.log" >&2; exit 1; }
    rm -f "$dir.initdb.log"
    # Throwaway data: durability off, speed on.
    cat >>"$dir/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
fi

if ! as_owner "$PG_BIN/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    as_owner "$PG_BIN/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start >/dev/null \
        || { cat "$dir/server.log" >&2 || true; exit 1; }
    started=1
fi

export PYXA_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
echo "with-postgres: PostgreSQL $(cat "$dir/PG_VERSION") at $PYXA_TEST_DATABASE_URL" >&2

status=0
"$@" || status=$?
exit "$status"
