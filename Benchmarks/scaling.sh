#!/usr/bin/env bash
# Past one machine (issue 11): several chatd instances on one PostgreSQL, the bus (LISTEN/
# NOTIFY), the store as history grows, and presence leases. Figures and the model built from
# them: docs/scaling.md.
#
#   Benchmarks/scaling.sh                      every workload (about 15 minutes, most of it
#                                              generating a million-message history)
#   Benchmarks/scaling.sh instances bus        some of: instances bus catchup presence store
#   CHATD_BINARY=path FANOUT_BINARY=path Benchmarks/scaling.sh   skip the release builds
#
# Workloads:
#   instances  1, 2 and 3 chatd processes on one database; one room, SUBSCRIBERS streams split
#              over them, the sender on the first (FanoutBench): latency within the sender's
#              instance ("local") and across the bus ("remote"), deliveries/s, CPU per instance.
#   bus        NOTIFY alone (Benchmarks/Scaling/bus.py): pgbench sends at rising rates, one
#              LISTEN connection receives; payload sizes; synchronous_commit on and off.
#   catchup    three instances; an instance's listener falls behind (SIGSTOP for PAUSE s), then
#              every LISTEN connection is terminated: every subscriber must end with exactly
#              the room's seqs from the database (Benchmarks/Scaling/catchup.py).
#   presence   the SQL cost of lease renewals (pg_stat_statements over LEASE_WINDOW s with
#              three instances), then a SIGKILLed instance: time until its users are offline.
#   store      history.sql writes STORE_ROOMS small rooms and one room per STORE_SIZES size;
#              store.py times SendMessage, GetMessages (latest, old), SubscribeRoom replay,
#              GetRoom (unread), ListRooms per room, and concurrent durable sends.
#
# Knobs (environment): INSTANCE_COUNTS="1 2 3", SUBSCRIBERS=600, MESSAGES=50, RATE=10,
# CONNECTIONS=4 (per instance), BUS_RATES="500,1000,2000,5000,0" (0: unthrottled),
# BUS_PAYLOADS="0,40,1000,7900" (0: no NOTIFY), BUS_SECONDS=5, CATCHUP_SUBSCRIBERS=20 (per instance),
# CATCHUP_MESSAGES=300, CATCHUP_RATE=30, PAUSE=5, PRESENCE_USERS=200, LEASE=6,
# LEASE_WINDOW=30, STORE_ROOMS=100000, STORE_SIZES="1000,10000,100000,1000000",
# STORE_CALLS=100, STORE_SENDERS=8.
#
# One PostgreSQL (scripts/pg, fsync on, pg_stat_statements loaded) in a temp folder, a fresh
# database per workload; chatd instances in release mode on free 127.0.0.1 ports with rate
# limits off and an HS256 secret made for the run. Everything started here stops on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=../scripts/lib/common.sh
source scripts/lib/common.sh
# shellcheck source=../scripts/lib/instances.sh
source scripts/lib/instances.sh
exec </dev/null

WORKLOADS=("$@")
[ ${#WORKLOADS[@]} -gt 0 ] || WORKLOADS=(instances bus catchup presence store)
read -r -a INSTANCE_COUNTS <<<"${INSTANCE_COUNTS:-1 2 3}"
SUBSCRIBERS="${SUBSCRIBERS:-600}"
MESSAGES="${MESSAGES:-50}"
RATE="${RATE:-10}"
CONNECTIONS="${CONNECTIONS:-4}"
BUS_RATES="${BUS_RATES:-500,1000,2000,5000,0}"
BUS_PAYLOADS="${BUS_PAYLOADS:-0,40,1000,7900}"
BUS_SECONDS="${BUS_SECONDS:-5}"
CATCHUP_SUBSCRIBERS="${CATCHUP_SUBSCRIBERS:-20}"
CATCHUP_MESSAGES="${CATCHUP_MESSAGES:-300}"
CATCHUP_RATE="${CATCHUP_RATE:-30}"
PAUSE="${PAUSE:-5}"
PRESENCE_USERS="${PRESENCE_USERS:-200}"
LEASE="${LEASE:-6}"
LEASE_WINDOW="${LEASE_WINDOW:-30}"
STORE_ROOMS="${STORE_ROOMS:-100000}"
STORE_SIZES="${STORE_SIZES:-1000,10000,100000,1000000}"
STORE_CALLS="${STORE_CALLS:-100}"
STORE_SENDERS="${STORE_SENDERS:-8}"

ensure_packages "${CHATD_RUN_PACKAGES[@]}" python3-psycopg2
ensure_release_binaries chatd FanoutBench
[ -x "$CHATD_BINARY" ] || die "no chatd binary at $CHATD_BINARY"
[ -x "$FANOUT_BINARY" ] || die "no FanoutBench binary at $FANOUT_BINARY"
ensure_venv
PY="$CHATD_VENV/bin/python"
# psycopg2 comes from Debian (python3-psycopg2), for the system interpreter.
SYSTEM_PY=/usr/bin/python3
export PYTHONPATH="$ROOT/Clients/python"

WORK="$(mktemp -d /tmp/chatd-scaling.XXXXXX)"
# PostgreSQL runs as the postgres user when we are root: it must reach WORK.
chmod 755 "$WORK"
bench_secret

cleanup() {
  stop_all_chatd
  scripts/pg stop "$WORK/pg" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

log "PostgreSQL with pg_stat_statements in $WORK/pg"
BASE_URL="$(scripts/pg start "$WORK/pg")"
psql "$BASE_URL" -qc "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"
scripts/pg restart "$WORK/pg"
# Statements inside the SQL functions too (chat_append_message's INSERTs, say).
psql "$BASE_URL" -qc "ALTER SYSTEM SET pg_stat_statements.track = 'all'" -c "SELECT pg_reload_conf()" >/dev/null
POSTMASTER_PID="$(head -1 "$WORK/pg/data/postmaster.pid")"
SOCKET="$WORK/pg/socket"

# new_database NAME: an empty database with pg_stat_statements; prints its URL.
new_database() {
  psql "$BASE_URL" -qc "CREATE DATABASE $1"
  local url="postgresql://postgres@/$1?host=$SOCKET"
  psql "$url" -qc "CREATE EXTENSION pg_stat_statements"
  echo "$url"
}

RESULTS="$WORK/results.txt"
: >"$RESULTS"
# record CMD...: runs a driver, keeps its result lines (stdout), fails the run if it fails.
record() {
  local out rc=0
  out="$("$@")" || rc=$?
  printf '%s\n' "$out" | tee -a "$RESULTS" >&2
  if [ $rc -ne 0 ]; then
    for f in "$WORK"/*.log; do [ -f "$f" ] && grep -v 'msg=rpc' "$f" | tail -n 20 >&2; done
    die "$1 ${2:-} failed (exit $rc)"
  fi
}

# start_instances URL N: chatd a, b, c... on the database; extra flags after N.
NAMES=(a b c d e)
start_instances() {
  local url="$1" count="$2" i
  shift 2
  for ((i = 0; i < count; i++)); do
    start_chatd "${NAMES[$i]}" --database-url "$url" "$@"
  done
}

# statement_costs URL LABEL: pg_stat_statements since the last reset, top statements by time.
statement_costs() {
  psql "$1" -AtF ' ' -c "
    SELECT 'workload=sql label=$2 calls=' || calls
      || ' mean_ms=' || round(mean_exec_time::numeric, 3)
      || ' total_ms=' || round(total_exec_time::numeric, 1)
      || ' query=' || regexp_replace(left(query, 90), '\\s+', '_', 'g')
    FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
    ORDER BY total_exec_time DESC LIMIT 8" | tee -a "$RESULTS" >&2
}

for workload in "${WORKLOADS[@]}"; do
  log "workload $workload"
  case "$workload" in
    instances)
      for n in "${INSTANCE_COUNTS[@]}"; do
        url="$(new_database "instances$n")"
        start_instances "$url" "$n" --database-max-connections 20
        psql "$url" -qAtc "SELECT pg_stat_statements_reset()" >/dev/null
        targets=() pids=()
        for ((i = 0; i < n; i++)); do
          targets+=(--target "127.0.0.1:${PORT[${NAMES[$i]}]}")
          pids+=(--pid "${PID[${NAMES[$i]}]}")
        done
        record "$FANOUT_BINARY" fanout "${targets[@]}" "${pids[@]}" \
          --postgres-pid "$POSTMASTER_PID" --subscribers "$SUBSCRIBERS" --messages "$MESSAGES" \
          --rate "$RATE" --connections "$CONNECTIONS"
        statement_costs "$url" "instances$n"
        stop_all_chatd
      done
      ;;
    bus)
      url="$(new_database bus)"
      record "$SYSTEM_PY" Benchmarks/Scaling/bus.py "$url" --rates "$BUS_RATES" \
        --payloads "$BUS_PAYLOADS" --seconds "$BUS_SECONDS" --postgres-pid "$POSTMASTER_PID"
      ;;
    catchup)
      url="$(new_database catchup)"
      start_instances "$url" 3
      targets=(--target "127.0.0.1:${PORT[a]}" --target "127.0.0.1:${PORT[b]}"
        --target "127.0.0.1:${PORT[c]}")
      record "$PY" Benchmarks/Scaling/catchup.py "${targets[@]}" --database-url "$url" \
        --subscribers "$CATCHUP_SUBSCRIBERS" --messages "$CATCHUP_MESSAGES" \
        --rate "$CATCHUP_RATE" --disturb stop --stop-pid "${PID[c]}" --pause "$PAUSE"
      record "$PY" Benchmarks/Scaling/catchup.py "${targets[@]}" --database-url "$url" \
        --subscribers "$CATCHUP_SUBSCRIBERS" --messages "$CATCHUP_MESSAGES" \
        --rate "$CATCHUP_RATE" --disturb terminate
      stop_all_chatd
      ;;
    presence)
      url="$(new_database presence)"
      start_instances "$url" 3 --presence-lease "$LEASE"
      sleep 1
      psql "$url" -qAtc "SELECT pg_stat_statements_reset()" >/dev/null
      log "lease renewals of three idle instances for $LEASE_WINDOW s"
      sleep "$LEASE_WINDOW"
      psql "$url" -AtF ' ' -c "
        SELECT 'workload=lease instances=3 lease_s=$LEASE window_s=$LEASE_WINDOW statements='
          || sum(calls) || ' per_instance_per_s=' || round(sum(calls) / 3.0 / $LEASE_WINDOW, 2)
          || ' exec_ms_per_instance_per_s='
          || round((sum(total_exec_time) / 3.0 / $LEASE_WINDOW)::numeric, 3)
        FROM pg_stat_statements
        WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND (query ILIKE '%instances%' OR query ILIKE '%presence%')" |
        tee -a "$RESULTS" >&2
      statement_costs "$url" lease
      record "$PY" Benchmarks/Scaling/presence.py --target "127.0.0.1:${PORT[c]}" \
        --pid "${PID[c]}" --database-url "$url" --users "$PRESENCE_USERS" --lease "$LEASE"
      PID[c]=""
      stop_all_chatd
      ;;
    store)
      url="$(new_database store)"
      start_instances "$url" 1
      log "generating history: $STORE_ROOMS rooms, rooms of $STORE_SIZES messages"
      started=$SECONDS
      psql "$url" -q -v ON_ERROR_STOP=1 -v rooms="$STORE_ROOMS" -v sizes="{$STORE_SIZES}" \
        -f Benchmarks/Scaling/history.sql
      echo "workload=history rooms=$STORE_ROOMS sizes=$STORE_SIZES seconds=$((SECONDS - started))" \
        "messages=$(psql "$url" -Atc 'SELECT count(*) FROM messages')" \
        "db_mib=$(psql "$url" -Atc 'SELECT pg_database_size(current_database()) / 1048576')" |
        tee -a "$RESULTS" >&2
      psql "$url" -qAtc "SELECT pg_stat_statements_reset()" >/dev/null
      record "$PY" Benchmarks/Scaling/store.py --target "127.0.0.1:${PORT[a]}" \
        --sizes "$STORE_SIZES" --calls "$STORE_CALLS" --senders "$STORE_SENDERS"
      statement_costs "$url" store
      stop_all_chatd
      ;;
    *) die "unknown workload $workload (instances bus catchup presence store)" ;;
  esac
done

printf '\n== results (%s, %s cores) ==\n' "$(date -u +%Y-%m-%dT%H:%MZ)" "$(nproc)"
cat "$RESULTS"
printf '(127.0.0.1; clients, chatd and PostgreSQL on the same cores)\n'
