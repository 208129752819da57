#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests, from Debian's packages.
#
#   scripts/pg-test-server.sh start DIR PORT   # fresh cluster in DIR/data, started on 127.0.0.1:PORT,
#                                              # socket in DIR, database assistant_test created
#   scripts/pg-test-server.sh url   DIR PORT   # print postgresql+asyncpg://postgres@127.0.0.1:PORT/assistant_test
#   scripts/pg-test-server.sh stop  DIR PORT   # stop the server and delete the cluster (the log stays)
#
# Installs the 'postgresql' package when initdb is missing (root only; otherwise says how).
# Trust authentication, listens on 127.0.0.1 only, fsync off: for tests, never for data you keep.
# Works as root (the server then runs as the 'postgres' user, which owns DIR) and as a normal user.
set -euo pipefail

usage() { echo "usage: $0 start|stop|url DIR PORT" >&2; exit 2; }
[ $# -eq 3 ] || usage
action="$1"
port="$3"
[[ "$port" =~ ^[0-9]+$ ]] || { echo "error: PORT must be a number, not '$port'" >&2; exit 2; }
mkdir -p "$2"
dir="$(cd "$2" && pwd)"
data="$dir/data"
log="$dir/server.log"
database=assistant_test

die() { echo "error: pg-test-server: $*" >&2; exit 1; }

find_bindir() {
  local initdb
  initdb=$(ls -1 /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$initdb" ] && dirname "$initdb"
}

install_postgresql() {
  [ "$(id -u)" -eq 0 ] || die "PostgreSQL's initdb was not found under /usr/lib/postgresql and this is not root:
  install the server first:  sudo apt-get install -y postgresql"
  command -v apt-get >/dev/null || die "initdb was not found and apt-get is not available to install PostgreSQL"
  echo "pg-test-server: installing PostgreSQL from Debian's packages ..." >&2
  export DEBIAN_FRONTEND=noninteractive
  # A first try without 'apt-get update' (fast when the lists are current); then with it.
  if ! apt-get install -y --no-install-recommends postgresql >&2; then
    apt-get update >&2 || die "apt-get update failed"
    apt-get install -y --no-install-recommends postgresql >&2 || die "apt-get install postgresql failed"
  fi
}

# Run a command as the server's owner: 'postgres' when we are root, else ourselves.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

bindir() {
  local found
  found=$(find_bindir) || true
  if [ -z "$found" ]; then
    install_postgresql
    found=$(find_bindir) || true
    [ -n "$found" ] || die "PostgreSQL was installed but no initdb is under /usr/lib/postgresql/*/bin"
  fi
  echo "$found"
}

is_running() {
  [ -f "$data/PG_VERSION" ] && [ -n "${bin:-}" ] && as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1
}

start() {
  bin=$(bindir)
  if is_running; then
    echo "pg-test-server: already running in $data" >&2
  else
    rm -rf "$data"
    : >"$log"
    if [ "$(id -u)" -eq 0 ]; then
      id postgres >/dev/null 2>&1 || die "there is no 'postgres' user to run the server as (PostgreSQL refuses to run as root)"
      chown -R postgres:postgres "$dir"
      runuser -u postgres -- test -w "$dir" \
        || die "the 'postgres' user cannot write to $dir (is a parent folder closed to other users?)"
    fi
    as_owner "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$log" 2>&1 \
      || { cat "$log" >&2; die "initdb failed (log above)"; }
    cat >>"$data/postgresql.conf" <<CONF
# pg-test-server.sh: a throwaway server for tests
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 100
shared_buffers = 64MB
log_min_messages = warning
CONF
    as_owner "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 start >/dev/null \
      || { tail -n 30 "$log" >&2; die "the server did not start on 127.0.0.1:$port (log: $log)"; }
  fi
  for _ in $(seq 1 60); do
    as_owner "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" && break
    sleep 0.5
  done
  as_owner "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" || die "the server is not ready on 127.0.0.1:$port (log: $log)"
  exists=$(as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$database'")
  if [ "$exists" != 1 ]; then
    as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres "$database" || die "createdb $database failed"
  fi
  echo "pg-test-server: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port, data in $data" >&2
}

stop() {
  bin=$(find_bindir) || true
  if is_running; then
    as_owner "$bin/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null || die "could not stop the server in $data"
  fi
  rm -rf "$data"
}

case "$action" in
  start) start ;;
  stop) stop ;;
  url) echo "postgresql+asyncpg://postgres@127.0.0.1:$port/$database" ;;
  *) usage ;;
esac
