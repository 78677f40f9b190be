#!/usr/bin/env bash
# System programs the tests use: Chromium (browser tests), zbar (decoding QR
# codes with an independent reader), PostgreSQL (the second test database),
# nginx (the reverse proxy in front of two app servers,
# tests/deploy/test_two_servers.py), Docker and debootstrap (the container test
# builds the image from Debian's packages, tests/deploy/test_container.py),
# LibreOffice Writer (opening the report's DOCX as officers do, headless), and npm
# for axe-core (package.json), which the browser tests inject to check accessibility.
# Installs what is missing when run as root; otherwise says what to install.
set -euo pipefail

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v zbarimg >/dev/null || missing+=(zbar-tools)
command -v pdftoppm >/dev/null || missing+=(poppler-utils)
command -v soffice >/dev/null || missing+=(libreoffice-writer-nogui)
command -v npm >/dev/null || missing+=(npm)
if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  missing+=(postgresql)
fi
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v dockerd >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)

# axe-core, pinned by package-lock.json, into node_modules/ (not part of the service).
install_axe() {
  if [ ! -f "$ROOT/node_modules/axe-core/axe.min.js" ] && command -v npm >/dev/null; then
    (cd "$ROOT" && npm ci --silent --no-audit --no-fund)
  fi
}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
if [ ${#missing[@]} -eq 0 ]; then
  install_axe
  exit 0
fi

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "Installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "Missing system packages: ${missing[*]}"
  echo "Install them (e.g. sudo apt-get install ${missing[*]}); their tests are skipped until then."
fi
install_axe
