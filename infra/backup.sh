#!/usr/bin/env bash
# Dumps the database to a folder and keeps the newest N dumps.
#   infra/backup.sh [--dir DIR] [--keep N]        (DATABASE_URL from the environment or .env)
# Output: DIR/obuna-YYYYMMDDTHHMMSSZ.dump (pg_dump custom format, restorable with infra/restore.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${BACKUP_DIR:-$root/backups}" keep="${BACKUP_KEEP:-14}"
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="$2"; shift 2 ;;
    --keep) keep="$2"; shift 2 ;;
    *) echo "usage: $0 [--dir DIR] [--keep N]" >&2; exit 2 ;;
  esac
done
if [ -z "${DATABASE_URL:-}" ] && [ -f "$root/.env" ]; then
  DATABASE_URL="$(grep -E '^DATABASE_URL=' "$root/.env" | tail -n1 | cut -d= -f2-)"
fi
: "${DATABASE_URL:?DATABASE_URL is required}"
[[ "$keep" =~ ^[1-9][0-9]*$ ]] || { echo "--keep must be a positive number" >&2; exit 2; }

mkdir -p "$dir"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
target="$dir/obuna-$stamp.dump"
# Write to a temporary name first: a failed dump never looks like a good backup.
pg_dump --format=custom --no-owner --no-privileges --file="$target.partial" "$DATABASE_URL"
mv "$target.partial" "$target"
echo "backup: wrote $target ($(du -h "$target" | cut -f1))"

# Rotation: keep the newest $keep dumps.
mapfile -t old < <(ls -1 "$dir"/obuna-*.dump 2>/dev/null | sort -r | tail -n +"$((keep + 1))")
for f in "${old[@]}"; do rm -f -- "$f"; echo "backup: rotated out $f"; done
