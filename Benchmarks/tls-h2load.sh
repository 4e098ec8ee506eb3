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

# start NAME [chatd flags...]: a chatd on a free port with its own database; sets PORT.
start() {
  local name="$1" db="bench_$1" pid
  shift
  psql "$BASE_URL" -qc "CREATE DATABASE $db" >/dev/null
  PORT="$(free_port)"
  CHATD_DATA_DIR="$WORK/data-$name" CHATD_DATABASE_URL="${BASE_URL/\/postgres\?//$db?}" \
    "$CHATD_BINARY" --listen "127.0.0.1:$PORT" --rate-limit off "$@" >"$WORK/$name.log" 2>&1 &
  pid=$!
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
start tls --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem"
TLS_URL="https://127.0.0.1:$PORT/grpc.health.v1.Health/Check"

printf '\x00\x00\x00\x00\x00' >"$WORK/check.bin"
H2LOAD=(h2load -d "$WORK/check.bin" -H 'content-type: application/grpc' -H 'te: trailers')

# One call each first: it must answer grpc-status 0, or the figures measure errors.
for url in "$H2C_URL" "$TLS_URL"; do
  nghttp -v -d "$WORK/check.bin" -H 'content-type: application/grpc' -H 'te: trailers' "$url" \
    >"$WORK/probe.txt" 2>&1 || true
  grep -aq 'grpc-status: 0' "$WORK/probe.txt" ||
    { cat "$WORK/probe.txt" >&2; die "Health/Check at $url did not answer grpc-status 0"; }
done

# rate OUT ARGS...: runs h2load, prints its req/s (succeeded requests only count).
rate() {
  local out="$1"
  shift
  "${H2LOAD[@]}" "$@" >"$out" 2>&1 || { cat "$out" >&2; die "h2load $* failed"; }
  grep -q ' 0 failed, 0 errored' "$out" || { cat "$out" >&2; die "h2load saw failures: $*"; }
  sed -n 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p' "$out"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

declare -A RESULTS
for round in $(seq "$ROUNDS"); do
  log "round $round of $ROUNDS"
  for config in "${CONFIGS[@]}"; do
    read -r clients streams <<<"$config"
    threads=1
    [ "$clients" -ge 2 ] && threads=2
    for mode in h2c tls; do
      url="$H2C_URL"
      [ "$mode" = tls ] && url="$TLS_URL"
      RESULTS["$mode c$clients m$streams"]+="$(rate "$WORK/out.txt" -D "$DURATION" \
        --warm-up-time=1 -t "$threads" -c "$clients" -m "$streams" "$url") "
    done
  done
  for mode in h2c tls; do
    url="$H2C_URL"
    [ "$mode" = tls ] && url="$TLS_URL"
    RESULTS["$mode handshakes"]+="$(rate "$WORK/out.txt" -t 2 -c "$HANDSHAKES" \
      -n "$HANDSHAKES" -m 1 "$url") "
  done
done
grep -a '^TLS Protocol\|^Cipher\|^Server Temp Key' "$WORK/out.txt" >&2 || true

printf '\n%-26s %12s %12s %8s\n' measurement "h2c" "TLS" "TLS/h2c"
for config in "${CONFIGS[@]}"; do
  read -r clients streams <<<"$config"
  keys+=("c$clients m$streams")
done
keys+=("handshakes")
for key in "${keys[@]}"; do
  h2c="$(tr ' ' '\n' <<<"${RESULTS["h2c $key"]}" | grep . | median)"
  tls="$(tr ' ' '\n' <<<"${RESULTS["tls $key"]}" | grep . | median)"
  label="unary req/s $key"
  [ "$key" = handshakes ] && label="new connections/s"
  printf '%-26s %12.0f %12.0f %8.2f\n' "$label" "$h2c" "$tls" \
    "$(awk -v a="$tls" -v b="$h2c" 'BEGIN { print (b > 0 ? a / b : 0) }')"
done
printf '\n(median of %s rounds; unary rows %ss each; new connections: %s clients, one call each)\n' \
  "$ROUNDS" "$DURATION" "$HANDSHAKES"
