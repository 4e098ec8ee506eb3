#!/usr/bin/env bash
# TLS against h2c, side by side in one run, with h2load (Debian nghttp2-client) on loopback:
# the unary rate at a few loads, and the rate of new connections (full handshake, one call,
# close).
#
#   Benchmarks/tls-h2load.sh                     3 rounds, 5 s per unary row
#   ROUNDS=5 DURATION=10 Benchmarks/tls-h2load.sh
#   CHATD_BINARY=path Benchmarks/tls-h2load.sh   skip the release build, use that binary
#
# Two release chatd processes run at once on one throwaway PostgreSQL (scripts/pg), one
# serving h2c and one TLS (a P-256 ECDSA certificate made here with openssl), and every
# measurement alternates between them, so the machine's noise hits both alike. The call is
# grpc.health.v1.Health/Check as in unary-h2load.sh. Each figure is the median of ROUNDS.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=../scripts/lib/common.sh
source scripts/lib/common.sh
exec </dev/null

DURATION="${DURATION:-5}"
ROUNDS="${ROUNDS:-3}"
# clients (connections) x max concurrent streams per connection
CONFIGS=("1 1" "16 16" "64 64")
# New connections per handshake measurement: each makes one call, all start at once.
HANDSHAKES="${HANDSHAKES:-500}"

ensure_packages nghttp2-client openssl postgresql
if [ -z "${CHATD_BINARY:-}" ]; then
  require_swift
  ensure_packages "${CHATD_BUILD_PACKAGES[@]}"
  log "building chatd (release)"
  swift build -c release --product chatd >&2
  CHATD_BINARY="$(swift build -c release --show-bin-path)/chatd"
fi
[ -x "$CHATD_BINARY" ] || die "no chatd binary at $CHATD_BINARY"

WORK="$(mktemp -d /tmp/chatd-tls-bench.XXXXXX)"
chmod 755 "$WORK"
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  scripts/pg destroy "$WORK/pg" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/key.pem" \
  -out "$WORK/cert.pem" -days 1 -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" >/dev/null 2>&1
BASE_URL="$(PG_FSYNC=off scripts/pg start "$WORK/pg")"

# start NAME [chatd flags...]: a chatd on a free port with its own database; sets PORT and
# PID.
start() {
  local name="$1" db="bench_$1" pid
  shift
  psql "$BASE_URL" -qc "CREATE DATABASE $db" >/dev/null
  PORT="$(free_port)"
  CHATD_DATA_DIR="$WORK/data-$name" CHATD_DATABASE_URL="${BASE_URL/\/postgres\?//$db?}" \
    "$CHATD_BINARY" --listen "127.0.0.1:$PORT" --rate-limit off "$@" >"$WORK/$name.log" 2>&1 &
  pid=$!
  PID=$pid
  PIDS+=("$pid")
  for _ in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$WORK/$name.log" >&2; die "chatd ($name) exited"; }
    sleep 0.1
  done
  die "chatd ($name) did not listen"
}
start h2c
H2C_URL="http://127.0.0.1:$PORT/grpc.health.v1.Health/Check"
H2C_PID=$PID
start tls --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem"
TLS_URL="https://127.0.0.1:$PORT/grpc.health.v1.Health/Check"
TLS_PID=$PID

printf '\x00\x00\x00\x00\x00' >"$WORK/check.bin"
H2LOAD=(h2load -d "$WORK/check.bin" -H 'content-type: application/grpc' -H 'te: trailers')

# One call each first: it must answer grpc-status 0, or the figures measure errors.
for url in "$H2C_URL" "$TLS_URL"; do
  nghttp -v -d "$WORK/check.bin" -H 'content-type: application/grpc' -H 'te: trailers' "$url" \
    >"$WORK/probe.txt" 2>&1 || true
  grep -aq 'grpc-status: 0' "$WORK/probe.txt" ||
    { cat "$WORK/probe.txt" >&2; die "Health/Check at $url did not answer grpc-status 0"; }
done

# Server CPU time (user + system) from /proc, in microseconds.
cpu_us() { awk -v t="$(getconf CLK_TCK)" '{ print ($14 + $15) * 1000000 / t }' "/proc/$1/stat"; }

# measure PID ARGS...: runs h2load against the chatd PID, prints "req/s cpu-us-per-request"
# (a warm-up second is served but not counted, so the CPU figure is an upper bound).
measure() {
  local pid="$1" out="$WORK/out.txt" before after succeeded
  shift
  before="$(cpu_us "$pid")"
  "${H2LOAD[@]}" "$@" >"$out" 2>&1 || { cat "$out" >&2; die "h2load $* failed"; }
  after="$(cpu_us "$pid")"
  grep -q ' 0 failed, 0 errored' "$out" || { cat "$out" >&2; die "h2load saw failures: $*"; }
  succeeded="$(sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p' "$out")"
  printf '%s %s\n' "$(sed -n 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p' "$out")" \
    "$(awk -v a="$after" -v b="$before" -v n="$succeeded" 'BEGIN { printf "%.1f", (a - b) / n }')"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# RATES[mode key] and CPU[mode key]: one value per round, space-separated.
declare -A RATES CPU
record() {
  local mode="$1" key="$2" rate cpu
  shift 2
  read -r rate cpu < <(measure "$@")
  RATES["$mode $key"]+="$rate "
  CPU["$mode $key"]+="$cpu "
}
KEYS=()
for config in "${CONFIGS[@]}"; do
  read -r clients streams <<<"$config"
  KEYS+=("c$clients m$streams")
done
KEYS+=("new connections")

for round in $(seq "$ROUNDS"); do
  log "round $round of $ROUNDS"
  for config in "${CONFIGS[@]}"; do
    read -r clients streams <<<"$config"
    threads=1
    [ "$clients" -ge 2 ] && threads=2
    load=(-D "$DURATION" --warm-up-time=1 -t "$threads" -c "$clients" -m "$streams")
    record h2c "c$clients m$streams" "$H2C_PID" "${load[@]}" "$H2C_URL"
    record tls "c$clients m$streams" "$TLS_PID" "${load[@]}" "$TLS_URL"
  done
  # Every client connects (a full handshake: h2load does not resume), makes one call, ends.
  record h2c "new connections" "$H2C_PID" -t 2 -c "$HANDSHAKES" -n "$HANDSHAKES" "$H2C_URL"
  record tls "new connections" "$TLS_PID" -t 2 -c "$HANDSHAKES" -n "$HANDSHAKES" "$TLS_URL"
done
grep -a '^TLS Protocol\|^Cipher\|^Server Temp Key' "$WORK/out.txt" >&2 || true

mid() { tr ' ' '\n' <<<"$1" | grep . | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
printf '\n%-16s %10s %10s %8s   %12s %12s %8s\n' "per second" "h2c" "TLS" "TLS/h2c" \
  "h2c CPU/op" "TLS CPU/op" "TLS/h2c"
for key in "${KEYS[@]}"; do
  r1="$(mid "${RATES["h2c $key"]}")" r2="$(mid "${RATES["tls $key"]}")"
  c1="$(mid "${CPU["h2c $key"]}")" c2="$(mid "${CPU["tls $key"]}")"
  printf '%-16s %10.0f %10.0f %8s   %10sus %10sus %8s\n' "$key" "$r1" "$r2" "$(ratio "$r2" "$r1")" \
    "$c1" "$c2" "$(ratio "$c2" "$c1")"
done
printf '\n(median of %s rounds; unary rows: calls over DURATION=%ss; new connections: %s clients\n' \
  "$ROUNDS" "$DURATION" "$HANDSHAKES"
printf 'that each connect, make one call and close; CPU/op: chatd CPU per call or connection)\n'
