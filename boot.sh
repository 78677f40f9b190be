#!/bin/sh
# Container entry point.
#
#   boot.sh                    migrate, store the newest questionnaire, exec gunicorn
#   boot.sh flask db upgrade   any other command runs as given (one-off jobs)
#
# While the database is still starting (connection refused, server starting up)
# the migration is retried for DB_WAIT_SECONDS (default 60). Any other failure,
# a bad setting (no SURVEY_SECRET_KEY), a wrong password, a permission denied,
# will not go away by waiting: it is printed and the container exits at once.
set -eu

if [ "$#" -gt 0 ]; then
  exec "$@"
fi

# What a database that is not accepting connections yet says (psycopg/libpq).
not_ready='connection refused|could not connect|the database system is starting up|the database system is not yet accepting connections|no such file or directory.*\.s\.pgsql'
wait_seconds="${DB_WAIT_SECONDS:-60}"
waited=0
while :; do
  if output="$(flask db upgrade 2>&1)"; then
    printf '%s\n' "$output"
    break
  fi
  printf '%s\n' "$output" >&2
  if ! printf '%s' "$output" | grep -qiE "$not_ready"; then
    echo "boot.sh: flask db upgrade failed (above); waiting will not fix that, exiting" >&2
    exit 1
  fi
  if [ "$waited" -ge "$wait_seconds" ]; then
    echo "boot.sh: the database still refuses connections after ${waited} s (DB_WAIT_SECONDS), exiting" >&2
    exit 1
  fi
  echo "boot.sh: the database is not accepting connections yet; retrying in 2 s (${waited}/${wait_seconds} s)" >&2
  sleep 2
  waited=$((waited + 2))
done

flask survey sync-questionnaires
# Responses the last run stored but had not yet counted into the report rollup
# (reports include them either way; the workers' counting threads would too).
flask survey rollup-count
# --worker-tmp-dir: gunicorn's heartbeat files on the tmpfs Docker always
# mounts, so the image also runs with --read-only; --no-control-socket: the
# control interface is not used, and its socket would go to the read-only /app.
# The access log leaves out the client's address (%(h)s) and the query string
# (it may hold a receipt code): citizens' IP addresses are never written in clear.
exec gunicorn --bind "${HOST:-0.0.0.0}:${PORT:-8000}" --workers "${WEB_CONCURRENCY:-4}" \
  --worker-class "${GUNICORN_WORKER_CLASS:-gthread}" --threads "${GUNICORN_THREADS:-4}" \
  --worker-tmp-dir /dev/shm --no-control-socket --access-logfile - \
  --access-logformat '%(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s' --error-logfile - wsgi:app
