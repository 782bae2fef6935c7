#!/usr/bin/env bash
# Start (idempotently) a throwaway PostgreSQL for the registry tests, on 127.0.0.1 only, and print the URL
# to export as XDSI_TEST_POSTGRES_URL:
#
#     export XDSI_TEST_POSTGRES_URL="$(tools/start_test_postgres.sh)"
#     python -m pytest tests/registry -q
#
# Settings (environment): XDSI_PG_PORT (54329), XDSI_PG_DIR (/tmp/xdsi-test-postgres), XDSI_PG_DB (xdsi_test),
# XDSI_PG_BIN (the newest /usr/lib/postgresql/*/bin). Run as root it runs the server as the `postgres`
# user (runuser/su); otherwise as the calling user. Stop it with: pg_ctl -D "$XDSI_PG_DIR/data" stop
# (as the same user). Everything but the URL goes to stderr.
set -euo pipefail

PORT="${XDSI_PG_PORT:-54329}"
BASE="${XDSI_PG_DIR:-/tmp/xdsi-test-postgres}"
DB="${XDSI_PG_DB:-xdsi_test}"
DATA="$BASE/data"
SOCKDIR="$BASE"

if [[ -n "${XDSI_PG_BIN:-}" ]]; then
    BIN="$XDSI_PG_BIN"
else
    BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [[ -z "$BIN" ]] && command -v pg_ctl >/dev/null 2>&1; then
        BIN="$(dirname "$(command -v pg_ctl)")"
    fi
fi
if [[ -z "$BIN" || ! -x "$BIN/pg_ctl" ]]; then
    echo "start_test_postgres: no PostgreSQL binaries found (install postgresql or set XDSI_PG_BIN)" >&2
    exit 1
fi

if [[ "$(id -u)" == "0" ]]; then
    PGUSER_OS=postgres
    if ! id "$PGUSER_OS" >/dev/null 2>&1; then
        echo "start_test_postgres: running as root but there is no 'postgres' user" >&2
        exit 1
    fi
    as_pg() {
        if command -v runuser >/dev/null 2>&1; then
            runuser -u "$PGUSER_OS" -- "$@"
        else
            su -s /bin/sh "$PGUSER_OS" -c "$(printf '%q ' "$@")"
        fi
    }
else
    PGUSER_OS="$(id -un)"
    as_pg() { "$@"; }
fi

mkdir -p "$BASE"
if [[ "$(id -u)" == "0" ]]; then
    chown "$PGUSER_OS" "$BASE"
fi
chmod 700 "$BASE"

if [[ ! -s "$DATA/PG_VERSION" ]]; then
    echo "start_test_postgres: initdb in $DATA" >&2
    as_pg "$BIN/initdb" -D "$DATA" -U "$PGUSER_OS" --auth=trust --encoding=UTF8 --no-locale >&2
fi

if ! as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    echo "start_test_postgres: starting on 127.0.0.1:$PORT" >&2
    # fsync stays on: the registry's durability is part of what the tests exercise
    as_pg "$BIN/pg_ctl" -D "$DATA" -l "$BASE/server.log" -w -t 60 \
        -o "-k $SOCKDIR -h 127.0.0.1 -p $PORT -c max_connections=200" start >&2
fi

for _ in $(seq 1 60); do
    if as_pg "$BIN/pg_isready" -h 127.0.0.1 -p "$PORT" -q; then
        break
    fi
    sleep 0.5
done

if ! as_pg "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U "$PGUSER_OS" -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
    as_pg "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U "$PGUSER_OS" "$DB" >&2
fi

echo "postgresql://$PGUSER_OS@127.0.0.1:$PORT/$DB"
