#!/usr/bin/env bash
# Unary RPC rate and latency of chatd, measured with h2load (Debian nghttp2-client) on loopback.
#
#   Benchmarks/unary-h2load.sh                  every configuration, 10 s each
#   DURATION=5 Benchmarks/unary-h2load.sh       shorter runs
#   CHATD_BINARY=path Benchmarks/unary-h2load.sh  skip the release build, use that binary
#   CHATD_METRICS_LISTEN=off Benchmarks/unary-h2load.sh  without metrics (by default they are
#                                               recorded, the endpoint on a free port)
#
# Each run sends grpc.health.v1.Health/Check as a valid gRPC POST: the body is the 5-byte
# message prefix of an empty HealthCheckRequest, with content-type application/grpc and
# te: trailers. The release chatd listens on a free 127.0.0.1 port and stops at the end.
# h2load counts HTTP 2xx as success; gRPC errors also travel with HTTP 200, so the script
# first checks one call's grpc-status trailer with nghttp (same package).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=../scripts/lib/common.sh
source scripts/lib/common.sh
exec </dev/null

DURATION="${DURATION:-10}"
# clients (connections) x max concurrent streams per connection
CONFIGS=("1 1" "1 16" "16 16" "16 32" "64 64")

ensure_packages nghttp2-client
if [ -z "${CHATD_BINARY:-}" ]; then
  require_swift
  ensure_packages "${CHATD_BUILD_PACKAGES[@]}"
  log "building chatd (release)"
  swift build -c release --product chatd >&2
  CHATD_BINARY="$(swift build -c release --show-bin-path)/chatd"
fi
[ -x "$CHATD_BINARY" ] || die "no chatd binary at $CHATD_BINARY"

WORK="$(mktemp -d /tmp/chatd-bench.XXXXXX)"
# The embedded PostgreSQL runs as the postgres user when we are root: it must reach WORK.
chmod 755 "$WORK"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
URL="http://127.0.0.1:$PORT/grpc.health.v1.Health/Check"
printf '\x00\x00\x00\x00\x00' >"$WORK/check.bin"
H2LOAD=(h2load -d "$WORK/check.bin" -H 'content-type: application/grpc' -H 'te: trailers')

CHATD_PID=""
cleanup() {
  if [ -n "$CHATD_PID" ] && kill -0 "$CHATD_PID" 2>/dev/null; then
    kill -TERM "$CHATD_PID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$CHATD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$CHATD_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

log "starting $CHATD_BINARY on 127.0.0.1:$PORT"
CHATD_DATA_DIR="$WORK/data" CHATD_METRICS_LISTEN="${CHATD_METRICS_LISTEN:-127.0.0.1:0}" "$CHATD_BINARY" --listen "127.0.0.1:$PORT" >"$WORK/chatd.log" 2>&1 &
CHATD_PID=$!
for _ in $(seq 200); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  kill -0 "$CHATD_PID" 2>/dev/null || { cat "$WORK/chatd.log" >&2; die "chatd exited"; }
  sleep 0.1
done

# One call first: it must answer grpc-status 0, or the figures below measure errors.
nghttp -v -d "$WORK/check.bin" -H 'content-type: application/grpc' -H 'te: trailers' "$URL" \
  >"$WORK/probe.txt" 2>&1 || true
grep -aq 'grpc-status: 0' "$WORK/probe.txt" ||
  { cat "$WORK/probe.txt" "$WORK/chatd.log" >&2; die "Health/Check did not answer grpc-status 0"; }

# Server CPU time (user + system) from /proc, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$CHATD_PID/stat"; }
TICK_US=$((1000000 / $(getconf CLK_TCK)))

printf '\n%-8s %-8s %-8s %12s %10s %8s %12s %12s %12s %10s\n' \
  clients streams total "req/s" succeeded failed "mean" "sd" "max" "cpu/req"
for config in "${CONFIGS[@]}"; do
  read -r clients streams <<<"$config"
  out="$WORK/c${clients}m${streams}.txt"
  threads=1
  [ "$clients" -ge 2 ] && threads=2
  cpu_before="$(cpu_ticks)"
  "${H2LOAD[@]}" -D "$DURATION" --warm-up-time=1 -t "$threads" -c "$clients" -m "$streams" \
    "$URL" >"$out" 2>&1 || { cat "$out" >&2; die "h2load failed at c$clients m$streams"; }
  rps="$(sed -n 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p' "$out")"
  read -r succeeded failed < <(sed -n \
    's/^requests: .* \([0-9]*\) succeeded, \([0-9]*\) failed.*/\1 \2/p' "$out")
  read -r _ _ _ _ mean sd max _ < <(grep '^time for request:' "$out" |
    awk '{print $1, $2, $3, $4, $6, $7, $5}')
  # The warm-up second is served too, so CPU per request counts it against the measured ones:
  # an upper bound.
  cpu_us=$(( ($(cpu_ticks) - cpu_before) * TICK_US ))
  printf '%-8s %-8s %-8s %12s %10s %8s %12s %12s %12s %9sus\n' "$clients" "$streams" \
    "$((clients * streams))" "$rps" "$succeeded" "$failed" "$mean" "$sd" "$max" \
    "$(awk -v c="$cpu_us" -v n="$succeeded" 'BEGIN { printf "%.1f", (n > 0 ? c / n : 0) }')"
done
printf '\n(latency columns: time for request, as h2load reports it; %ss per row, loopback)\n' \
  "$DURATION"
