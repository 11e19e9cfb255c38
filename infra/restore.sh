#!/usr/bin/env bash
# Restores a dump made by infra/backup.sh into a database.
#   infra/restore.sh DUMP_FILE TARGET_DATABASE_URL [--force]
# The target database is created when missing. It refuses a target that already has tables
# unless --force is given (then existing objects are dropped first).
set -euo pipefail
dump="${1:?usage: $0 DUMP_FILE TARGET_DATABASE_URL [--force]}"
target="${2:?usage: $0 DUMP_FILE TARGET_DATABASE_URL [--force]}"
force="${3:-}"
[ -f "$dump" ] || { echo "restore: no such dump: $dump" >&2; exit 2; }

name="$(node -e 'console.log(decodeURIComponent(new URL(process.argv[1]).pathname.slice(1)))' "$target")"
admin="$(node -e 'const u=new URL(process.argv[1]);u.pathname="/postgres";console.log(u.toString())' "$target")"
exists="$(psql "$admin" -Atc "select 1 from pg_database where datname = '$name'")"
if [ "$exists" != 1 ]; then
  psql "$admin" -qc "create database \"$name\""
  echo "restore: created database $name"
else
  tables="$(psql "$target" -Atc "select count(*) from information_schema.tables where table_schema='public'")"
  if [ "$tables" != 0 ] && [ "$force" != --force ]; then
    echo "restore: $name already has $tables tables; pass --force to replace them" >&2
    exit 1
  fi
fi
clean=(); [ "$force" = --force ] && clean=(--clean --if-exists)
pg_restore --no-owner --no-privileges --exit-on-error "${clean[@]}" --dbname="$target" "$dump"
echo "restore: $dump → $name done"
