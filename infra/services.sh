#!/usr/bin/env bash
# Makes sure Postgres (127.0.0.1:5432) and Redis (127.0.0.1:6379) answer.
# If a port is closed and the server binaries are installed locally, it starts them in a
# project data folder (.data/); otherwise it prints exactly what to do and exits 1.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="$root/.data"
pg_host=127.0.0.1 pg_port=5432 redis_port=6379

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

ensure_postgres() {
  if port_open "$pg_port"; then echo "services: postgres answers on $pg_host:$pg_port"; return; fi
  # A Debian cluster that is merely stopped.
  if command -v pg_ctlcluster >/dev/null && ls /etc/postgresql >/dev/null 2>&1; then
    ver="$(ls /etc/postgresql | sort -V | tail -n1)"
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start 2>/dev/null || true
    for _ in $(seq 1 30); do port_open "$pg_port" && break; sleep 0.5; done
    if port_open "$pg_port"; then echo "services: started postgres cluster $ver/main"; return; fi
  fi
  bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
  if [ -n "$bin" ] && [ -x "$bin/initdb" ]; then
    mkdir -p "$data/postgres"
    run=(); [ "$(id -u)" = 0 ] && { chown -R postgres "$data/postgres"; run=(runuser -u postgres --); }
    [ -f "$data/postgres/PG_VERSION" ] || "${run[@]}" "$bin/initdb" -D "$data/postgres" -U postgres --auth=trust >/dev/null
    "${run[@]}" "$bin/pg_ctl" -D "$data/postgres" -l "$data/postgres.log" -o "-p $pg_port -k /tmp -h $pg_host" -w start >/dev/null
    echo "services: started postgres in $data/postgres"; return
  fi
  cat >&2 <<MSG
services: Postgres is not answering on $pg_host:$pg_port and no local server was found.
  Install it (Debian/Ubuntu): apt-get install -y postgresql   then run this script again,
  or with Docker:            docker compose -f infra/compose.yml up -d postgres
MSG
  exit 1
}

ensure_redis() {
  if port_open "$redis_port"; then echo "services: redis answers on 127.0.0.1:$redis_port"; return; fi
  if command -v redis-server >/dev/null; then
    mkdir -p "$data/redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$redis_port" --dir "$data/redis" \
      --appendonly yes --maxmemory-policy noeviction --logfile "$data/redis.log"
    for _ in $(seq 1 20); do port_open "$redis_port" && break; sleep 0.25; done
    echo "services: started redis in $data/redis"; return
  fi
  cat >&2 <<MSG
services: Redis is not answering on 127.0.0.1:$redis_port and redis-server is not installed.
  Install it (Debian/Ubuntu): apt-get install -y redis-server   then run this script again,
  or with Docker:            docker compose -f infra/compose.yml up -d redis
MSG
  exit 1
}

ensure_postgres
ensure_redis
