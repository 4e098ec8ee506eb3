# Shared by the benchmark scripts (scripts/bench, Benchmarks/fanout.sh): servers started on
# free 127.0.0.1 ports and stopped again, chatd in release mode with its embedded PostgreSQL.
# Source it after scripts/lib/common.sh; it defines functions and variables only.
#
# The caller sets WORK (a temp folder, mode 755: the embedded PostgreSQL runs as the postgres
# user when we are root and must reach it) and CHATD_BINARY, exports CHATD_JWT_SECRET
# (bench_secret makes one), and calls bench_cleanup from its EXIT trap.

# Servers by name: pid and port.
declare -A PID PORT
# The embedded cluster of the first chatd that find_cluster looked at.
PG_DIR=""
POSTMASTER_PID=""

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A random HS256 secret for the run, passed to chatd in the environment (ps shows flags).
bench_secret() { head -c 32 /dev/urandom | base64 | tr -d '\n'; }

# wait_for_port NAME SECONDS: until server NAME accepts connections; dies when it exits.
wait_for_port() {
  local name="$1" tries=$(($2 * 10))
  for _ in $(seq "$tries"); do
    (exec 3<>"/dev/tcp/127.0.0.1/${PORT[$name]}") 2>/dev/null && return 0
    kill -0 "${PID[$name]}" 2>/dev/null || {
      tail -n 40 "$WORK/$name.log" >&2
      die "$name exited before listening"
    }
    sleep 0.1
  done
  tail -n 40 "$WORK/$name.log" >&2
  die "$name did not listen on ${PORT[$name]} within $2 s"
}

# start_server NAME SECONDS COMMAND...: runs COMMAND (which must exec the server itself, so
# that its pid is the server's) with the port in $BENCH_PORT, output in $WORK/NAME.log, and
# waits up to SECONDS for it to listen.
start_server() {
  local name="$1" seconds="$2"
  shift 2
  PORT[$name]="$(free_port)"
  BENCH_PORT="${PORT[$name]}" "$@" >>"$WORK/$name.log" 2>&1 &
  PID[$name]=$!
  wait_for_port "$name" "$seconds"
}

# stop_server NAME: SIGTERM, SIGKILL after 15 s.
stop_server() {
  local pid="${PID[$1]:-}"
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  PID[$1]=""
}

# start_chatd NAME [flags...]: a release chatd on a free port, data in $WORK/NAME, rate limits
# off and --max-concurrent-streams raised.
start_chatd() {
  local name="$1"
  shift
  mkdir -p "$WORK/$name"
  start_server "$name" 60 env CHATD_DATA_DIR="$WORK/$name" CHATD_METRICS_LISTEN=off \
    bash -c 'exec "$0" --listen "127.0.0.1:$BENCH_PORT" --rate-limit off \
      --max-concurrent-streams 100000 --shutdown-grace 2 "$@"' "$CHATD_BINARY" "$@"
}

stop_chatd() { stop_server "$1"; }

# find_cluster [NAME]: the embedded cluster of chatd NAME (default a), which chatd logs.
find_cluster() {
  local name="${1:-a}"
  PG_DIR="$(sed -n 's/.*embedded postgres started.* dir=\([^ ]*\).*/\1/p' "$WORK/$name.log" | tail -1)"
  PG_DIR="${PG_DIR//\"/}"
  [ -n "$PG_DIR" ] && [ -f "$PG_DIR/data/postmaster.pid" ] ||
    { cat "$WORK/$name.log" >&2; die "cannot find chatd's embedded cluster"; }
  POSTMASTER_PID="$(head -1 "$PG_DIR/data/postmaster.pid")"
}

# Stops every server still running and the embedded cluster a killed chatd may have left.
bench_cleanup() {
  local name
  for name in "${!PID[@]}"; do stop_server "$name"; done
  if [ -n "$PG_DIR" ] && [ -f "$PG_DIR/data/postmaster.pid" ]; then
    local pm
    pm="$(head -1 "$PG_DIR/data/postmaster.pid")"
    kill -INT "$pm" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pm" 2>/dev/null || break; sleep 0.1; done
  fi
}
