#!/bin/sh
# First start: a cluster in $PGDATA with the superuser $POSTGRES_USER, whose
# password is read from $POSTGRES_PASSWORD_FILE, and the database $POSTGRES_DB
# it owns. Then, every start: postgres in the foreground, listening on all
# addresses of the container with password (scram-sha-256) authentication.
# The Unix socket, inside the container only, trusts local users (pg_dump via
# `docker exec`), as the official image does.
set -eu
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"

if [ -s "$PGDATA/PG_VERSION" ] && [ ! -e "$PGDATA/.initialized" ]; then
  echo "postgres-entrypoint: an earlier first start stopped half-way; empty the volume" >&2
  exit 1
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD_FILE:-}" ] || [ ! -s "$POSTGRES_PASSWORD_FILE" ]; then
    echo "postgres-entrypoint: POSTGRES_PASSWORD_FILE must name a non-empty file" >&2
    exit 1
  fi
  # initdb reads the first line of --pwfile as the password.
  initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$POSTGRES_PASSWORD_FILE" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  # Local socket only while the database is created: clients that connect
  # over TCP wait until the server is really ready.
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start
  if [ "$POSTGRES_DB" != "postgres" ]; then
    createdb -U "$POSTGRES_USER" -O "$POSTGRES_USER" "$POSTGRES_DB"
  fi
  pg_ctl -D "$PGDATA" -m fast -w stop
  touch "$PGDATA/.initialized"
fi
exec postgres -D "$PGDATA" -c listen_addresses='*'
