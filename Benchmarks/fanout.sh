#!/usr/bin/env bash
# Fan-out latency and idle-stream cost of chatd's real-time layer (issue 5), measured with
# Benchmarks/Fanout (FanoutBench: chatd's own gRPC client) on loopback.
#
#   Benchmarks/fanout.sh                     every workload (about 4 minutes)
#   Benchmarks/fanout.sh fanout idle two     some of them: fanout (one instance), idle, two
#   CHATD_BINARY=path FANOUT_BINARY=path Benchmarks/fanout.sh   skip the release builds
#
# Knobs (environment): SUBSCRIBERS="100 1000 10000", MESSAGES=50, RATE=10 (messages/s),
# IDLE_STREAMS="10000 50000", IDLE_ROOMS=50, TWO_SUBSCRIBERS="1000 10000", CONNECTIONS=8
# (per instance).
#
# chatd runs in release mode on free 127.0.0.1 ports with its embedded PostgreSQL in a temp
# data dir, rate limits off, --max-concurrent-streams raised, and an HS256 secret made for the
# run (passed in the environment, which ps does not show); FanoutBench mints its tokens with
# it. The second instance of "two" shares the first one's embedded cluster (--database-url).
# Everything started here is stopped on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=../scripts/lib/common.sh
source scripts/lib/common.sh
# shellcheck source=../scripts/lib/instances.sh
source scripts/lib/instances.sh
exec </dev/null

WORKLOADS=("$@")
[ ${#WORKLOADS[@]} -gt 0 ] || WORKLOADS=(fanout idle two)
read -r -a SUBSCRIBER_COUNTS <<<"${SUBSCRIBERS:-100 1000 10000}"
read -r -a IDLE_COUNTS <<<"${IDLE_STREAMS:-10000 50000}"
read -r -a TWO_COUNTS <<<"${TWO_SUBSCRIBERS:-1000 10000}"
MESSAGES="${MESSAGES:-50}"
RATE="${RATE:-10}"
IDLE_ROOMS="${IDLE_ROOMS:-50}"
CONNECTIONS="${CONNECTIONS:-8}"

ensure_release_binaries chatd FanoutBench
[ -x "$CHATD_BINARY" ] || die "no chatd binary at $CHATD_BINARY"
[ -x "$FANOUT_BINARY" ] || die "no FanoutBench binary at $FANOUT_BINARY"

WORK="$(mktemp -d /tmp/chatd-fanout.XXXXXX)"
# The embedded PostgreSQL runs as the postgres user when we are root: it must reach WORK.
chmod 755 "$WORK"
bench_secret

cleanup() {
  stop_chatd b
  stop_chatd a
  stop_embedded_cluster
  rm -rf "$WORK"
}
trap cleanup EXIT

RESULTS="$WORK/results.txt"
: >"$RESULTS"
bench() {
  log "FanoutBench $*"
  local line
  line="$("$FANOUT_BINARY" "$@" --connections "$CONNECTIONS")" || {
    for f in "$WORK"/*.log; do grep -v 'msg=rpc' "$f" | tail -n 20 >&2; done
    die "FanoutBench $* failed"
  }
  echo "$line" >&2
  echo "$line" >>"$RESULTS"
}

for workload in "${WORKLOADS[@]}"; do
  case "$workload" in
    fanout)
      start_chatd a
      find_cluster
      for n in "${SUBSCRIBER_COUNTS[@]}"; do
        bench fanout --target "127.0.0.1:${PORT[a]}" --pid "${PID[a]}" \
          --postgres-pid "$POSTMASTER_PID" --subscribers "$n" --messages "$MESSAGES" --rate "$RATE"
      done
      stop_chatd a
      ;;
    idle)
      # A fresh process per row: memory a previous row freed but kept would hide growth.
      for n in "${IDLE_COUNTS[@]}"; do
        start_chatd a
        find_cluster
        bench idle --target "127.0.0.1:${PORT[a]}" --pid "${PID[a]}" --streams "$n" \
          --rooms "$IDLE_ROOMS"
        stop_chatd a
      done
      ;;
    two)
      start_chatd a
      find_cluster
      start_chatd b --database-url "postgresql://postgres@/postgres?host=$PG_DIR/socket"
      for n in "${TWO_COUNTS[@]}"; do
        bench fanout --target "127.0.0.1:${PORT[a]}" --target "127.0.0.1:${PORT[b]}" \
          --pid "${PID[a]}" --pid "${PID[b]}" --postgres-pid "$POSTMASTER_PID" \
          --subscribers "$n" --messages "$MESSAGES" --rate "$RATE"
      done
      stop_chatd b
      stop_chatd a
      ;;
    *) die "unknown workload $workload (fanout, idle, two)" ;;
  esac
done

if grep -q '^workload=fanout' "$RESULTS"; then
  printf '\nFan-out: %s messages at %s/s per row; latency = send to receipt, every delivery\n' \
    "$MESSAGES" "$RATE"
  printf '%-4s %-7s %-6s %-9s %-8s %-8s %-8s %-8s %-10s %-10s %-8s %-10s %-8s %-8s %-8s\n' \
    inst subs conns delivered missing p50ms p99ms maxms "deliv/s" "srv us/d" "srv cpu" \
    "cli us/d" "cli cpu" "pg us/m" "srv MiB"
  while read -r line; do
    [ "$(field "$line" workload)" = fanout ] || continue
    printf '%-4s %-7s %-6s %-9s %-8s %-8s %-8s %-8s %-10s %-10s %-8s %-10s %-8s %-8s %-8s\n' \
      "$(field "$line" instances)" "$(field "$line" subscribers)" "$(field "$line" connections)" \
      "$(field "$line" deliveries)" "$(field "$line" missing)" "$(field "$line" latency_p50_ms)" \
      "$(field "$line" latency_p99_ms)" "$(field "$line" latency_max_ms)" \
      "$(field "$line" deliveries_per_s)" "$(field "$line" server_cpu_us_per_delivery)" \
      "$(field "$line" server_cpu_pct)%" "$(field "$line" client_cpu_us_per_delivery)" \
      "$(field "$line" client_cpu_pct)%" "$(field "$line" postgres_cpu_us_per_message)" \
      "$(field "$line" server_rss_mib)"
  done <"$RESULTS"
fi
if grep -q '^workload=idle' "$RESULTS"; then
  printf '\nIdle streams over %s rooms\n' "$IDLE_ROOMS"
  printf '%-8s %-6s %-8s %-7s %-12s %-12s %-10s %-6s %-10s %-10s\n' streams conns "sync s" \
    failed "RSS before" "RSS after" "KiB/strm" fds "idle cpu" "cli KiB/s"
  while read -r line; do
    [ "$(field "$line" workload)" = idle ] || continue
    printf '%-8s %-6s %-8s %-7s %-12s %-12s %-10s %-6s %-10s %-10s\n' \
      "$(field "$line" streams)" "$(field "$line" connections)" "$(field "$line" sync_s)" \
      "$(field "$line" failed)" "$(field "$line" server_rss_before_mib) MiB" \
      "$(field "$line" server_rss_after_mib) MiB" "$(field "$line" server_kib_per_stream)" \
      "$(field "$line" server_fds)" "$(field "$line" server_idle_cpu_pct)%" \
      "$(field "$line" client_kib_per_stream)"
  done <"$RESULTS"
fi
printf '\n(raw result lines above; 127.0.0.1, client and servers on the same cores)\n'
