#!/bin/sh
# Container entry point: apply migrations (retrying while the database starts),
# then hand the process over to gunicorn.
set -e
for attempt in 1 2 3 4 5 6 7 8 9 10; do
  if flask db upgrade; then
    break
  fi
  echo "Database not ready (attempt $attempt); retrying in 3 s" >&2
  sleep 3
done
flask survey sync-questionnaires
# The access log leaves out the client's address (%(h)s) and the query string
# (it may hold a receipt code): citizens' IP addresses are never written in clear.
exec gunicorn --bind "0.0.0.0:${PORT:-8000}" --workers "${WEB_CONCURRENCY:-4}" \
  --worker-class "${GUNICORN_WORKER_CLASS:-gthread}" --threads "${GUNICORN_THREADS:-4}" \
  --access-logfile - --access-logformat '%(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s' \
  --error-logfile - wsgi:app
