# chatd instances for the benchmarks (Benchmarks/fanout.sh, Benchmarks/scaling.sh): release
# builds, free loopback ports, start/stop/kill by name, the embedded cluster's folder. Source
# it after scripts/lib/common.sh; it defines functions and variables only.
#
# The caller sets WORK (a temp folder, removed by the caller) before starting instances, and
# CHATD_BINARY; CHATD_JWT_SECRET is exported by bench_secret for chatd and FanoutBench.

# Instances by name: pid and port. Logs go to $WORK/NAME.log, data to $WORK/NAME/.
declare -A PID PORT
# The embedded cluster of instance a (fanout.sh) once find_cluster ran.
PG_DIR=""
POSTMASTER_PID=""

# ensure_release_binaries PRODUCT...: CHATD_BINARY / FANOUT_BINARY unless given, built in
# release mode (skipped when both variables point at binaries already).
ensure_release_binaries() {
  if [ -n "${CHATD_BINARY:-}" ] && [ -n "${FANOUT_BINARY:-}" ]; then return 0; fi
  require_swift
  ensure_packages "${CHATD_RUN_PACKAGES[@]}"
  local product
  for product in "$@"; do
    log "building $product (release)"
    swift build -c release --product "$product" >&2
  done
  local bin
  bin="$(swift build -c release --show-bin-path)"
  CHATD_BINARY="${CHATD_BINARY:-$bin/chatd}"
  FANOUT_BINARY="${FANOUT_BINARY:-$bin/FanoutBench}"
}

# bench_secret: an HS256 secret made for the run, in the environment (ps does not show it).
bench_secret() {
  CHATD_JWT_SECRET="$(head -c 32 /dev/urandom | base64 | tr -d '\n')"
  export CHATD_JWT_SECRET FANOUT_JWT_SECRET="$CHATD_JWT_SECRET"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_chatd NAME [flags...]: a chatd on a free port, data in $WORK/NAME, rate limits off,
# streams per connection raised, metrics on a free port of their own.
start_chatd() {
  local name="$1"
  shift
  local port
  port="$(free_port)"
  mkdir -p "$WORK/$name"
  CHATD_DATA_DIR="$WORK/$name" "$CHATD_BINARY" --listen "127.0.0.1:$port" --rate-limit off \
    --max-concurrent-streams 100000 --shutdown-grace 2 --metrics-listen "127.0.0.1:$(free_port)" "$@" \
    >>"$WORK/$name.log" 2>&1 &
  PID[$name]=$!
  PORT[$name]=$port
  for _ in $(seq 600); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    kill -0 "${PID[$name]}" 2>/dev/null || { cat "$WORK/$name.log" >&2; die "chatd $name exited"; }
    sleep 0.1
  done
  die "chatd $name did not listen on $port"
}

# stop_chatd NAME: SIGTERM, then SIGKILL after 15 s.
stop_chatd() {
  local pid="${PID[$1]:-}"
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -CONT "$pid" 2>/dev/null || true
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  PID[$1]=""
}

# kill_chatd NAME: SIGKILL at once (a crashed instance: no lease retirement, no GOAWAY).
kill_chatd() {
  local pid="${PID[$1]:-}"
  [ -n "$pid" ] || return 0
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  PID[$1]=""
}

# stop_all_chatd: every instance started here.
stop_all_chatd() {
  local name
  for name in "${!PID[@]}"; do stop_chatd "$name"; done
}

# find_cluster: the embedded cluster instance a started (chatd logs its folder).
find_cluster() {
  PG_DIR="$(sed -n 's/.*embedded postgres started.* dir=\([^ ]*\).*/\1/p' "$WORK/a.log" | tail -1)"
  PG_DIR="${PG_DIR//\"/}"
  [ -n "$PG_DIR" ] && [ -f "$PG_DIR/data/postmaster.pid" ] ||
    { cat "$WORK/a.log" >&2; die "cannot find chatd's embedded cluster"; }
  POSTMASTER_PID="$(head -1 "$PG_DIR/data/postmaster.pid")"
}

# stop_embedded_cluster: a chatd that had to be killed leaves its cluster running.
stop_embedded_cluster() {
  if [ -n "$PG_DIR" ] && [ -f "$PG_DIR/data/postmaster.pid" ]; then
    local pm
    pm="$(head -1 "$PG_DIR/data/postmaster.pid")"
    kill -INT "$pm" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pm" 2>/dev/null || break; sleep 0.1; done
  fi
}

# field LINE KEY: the value of KEY in a key=value result line.
field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }
