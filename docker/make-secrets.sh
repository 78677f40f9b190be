#!/usr/bin/env bash
# Create the files compose.yaml reads its secrets from, in ./secrets (mode 600):
# secret_key, hash_key, db_password, database_url, and a self-signed TLS
# certificate for a first trial (replace tls_certificate and tls_key with the
# real ones). Existing files are kept: rotating a key is a decision, see
# docs/OPERATIONS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p secrets
chmod 700 secrets
umask 077

new() {  # new FILE VALUE: write VALUE to secrets/FILE unless it exists
  [ -e "secrets/$1" ] || printf '%s\n' "$2" > "secrets/$1"
}
random() { python3 -c "import secrets; print(secrets.token_hex(32))"; }

new secret_key "$(random)"
new hash_key "$(random)"
new db_password "$(random)"
new database_url "postgresql+psycopg://sipas:$(head -n1 secrets/db_password)@db:5432/sipas"
if [ ! -e secrets/tls_certificate ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=${TLS_NAME:-localhost}" \
    -addext "subjectAltName=DNS:${TLS_NAME:-localhost}" \
    -keyout secrets/tls_key -out secrets/tls_certificate 2>/dev/null
fi
# The containers' users (10001, postgres, nginx's root master) read them
# through bind mounts: readable by all inside the folder that only root enters.
chmod 644 secrets/*
ls -l secrets
