# Shared by scripts/run, scripts/test and scripts/gen: logging, idempotent Debian package
# installs and the Python venv. Source it; it defines functions and variables only.

CHATD_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# The Python tools (grpcio, grpcio-tools, PyJWT, pytest, grpcurl), pinned in one file.
CHATD_VENV="$CHATD_ROOT/.build/venv"
CHATD_REQUIREMENTS="$CHATD_ROOT/Tests/Interop/requirements.txt"

log() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# Packages the build needs (pkg-config resolves the C libraries for SwiftPM's system targets).
CHATD_BUILD_PACKAGES=(pkg-config libnghttp2-dev libprotobuf-c-dev libssl-dev libpq-dev zlib1g-dev)
# chatd can run its own PostgreSQL cluster in development, so `scripts/run` wants the server too.
CHATD_RUN_PACKAGES=("${CHATD_BUILD_PACKAGES[@]}" postgresql)
# Code generation, the throwaway test database, h2load, the Python interop venv, and the
# openssl CLI that makes the TLS tests' throwaway certificates.
CHATD_TEST_PACKAGES=(
  "${CHATD_RUN_PACKAGES[@]}"
  protobuf-c-compiler protobuf-compiler libprotobuf-dev libprotoc-dev
  nghttp2-client python3-venv openssl
)

package_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# ensure_packages PKG...: installs the missing ones; apt-get update runs only when one is missing.
ensure_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    package_installed "$pkg" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "missing packages (${missing[*]}) and no apt-get to install them"
  local sudo=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || die "missing packages (${missing[*]}); run as root or install sudo"
    sudo=(sudo -n)
  fi
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 update -qq >&2 ||
    die "apt-get update failed"
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
    "${missing[@]}" >&2 || die "apt-get install ${missing[*]} failed"
}

require_swift() {
  command -v swift >/dev/null ||
    die "no Swift toolchain on PATH (install Swift 6.2 or newer)"
}

# ensure_venv: CHATD_VENV with CHATD_REQUIREMENTS installed. The venv lives under the build
# folder; it is (re)installed only when requirements.txt or the interpreter changed (a stamp
# records both), so reruns stay offline. PYTHON picks the interpreter.
ensure_venv() {
  local python="${PYTHON:-python3}" stamp="$CHATD_VENV/.requirements.stamp" want
  command -v "$python" >/dev/null || die "no $python on PATH"
  want="$(sha256sum "$CHATD_REQUIREMENTS" | cut -d' ' -f1)"
  want="$want $("$python" -c 'import sys; print(sys.version)' | head -1)"
  if [ -x "$CHATD_VENV/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  ensure_packages python3-venv
  log "creating the Python venv in $CHATD_VENV"
  rm -rf "$CHATD_VENV"
  mkdir -p "$(dirname "$CHATD_VENV")"
  "$python" -m venv "$CHATD_VENV" || die "python venv creation failed (apt-get install -y python3-venv)"
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$CHATD_VENV/bin/python" -m pip install --quiet --no-input \
    -r "$CHATD_REQUIREMENTS" || die "pip install -r $CHATD_REQUIREMENTS failed"
  printf '%s' "$want" >"$stamp"
}

# start_test_database: a throwaway PostgreSQL cluster (scripts/pg, fsync off) destroyed when
# the calling script exits (an EXIT trap); exports CHATD_TEST_DATABASE_URL for the Swift
# tests and the interop suite. Used by scripts/test and scripts/sanitize.
CHATD_TEST_PG_DIR=""
start_test_database() {
  CHATD_TEST_PG_DIR="$(mktemp -d /tmp/chatd-test-pg.XXXXXX)"
  chmod 755 "$CHATD_TEST_PG_DIR"
  trap 'scripts/pg destroy "$CHATD_TEST_PG_DIR" >/dev/null 2>&1 || true' EXIT
  CHATD_TEST_DATABASE_URL="$(PG_FSYNC=off scripts/pg start "$CHATD_TEST_PG_DIR")" || return 1
  export CHATD_TEST_DATABASE_URL
  log "PostgreSQL: $CHATD_TEST_DATABASE_URL"
}
