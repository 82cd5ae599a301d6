# Sourced by scripts/test.sh: a throwaway PostgreSQL cluster on a free
# loopback port for one test run, removed when the run ends. Exports
# TEST_DATABASE_URL (integration tests) and RULE_PG_URL (the rule
# compiler's agreement check). Postgres refuses to run as root, so as root
# the cluster belongs to the `postgres` user.

pg_as() {
  if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_start() {
  PG_DIR="$(mktemp -d -t quizfunnel-pg.XXXXXX)"
  chmod 755 "$PG_DIR"
  [[ "$(id -u)" == 0 ]] && chown postgres:postgres "$PG_DIR"
  local port
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  pg_as initdb -D "$PG_DIR/data" -A trust -U postgres -E UTF8 --no-sync >/dev/null
  pg_as pg_ctl -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
    -o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null
  export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
  export RULE_PG_URL="$TEST_DATABASE_URL"
  trap pg_stop EXIT
}

pg_stop() {
  if [[ -n "${PG_DIR:-}" ]]; then
    pg_as pg_ctl -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
}
