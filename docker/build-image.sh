#!/usr/bin/env bash
# Build sipas-survey's image the way `make image` and the container test do:
# the base image first (docker/build-base.sh, kept once built), then the
# Dockerfile with the legacy builder (Debian's docker.io has no buildx).
#
# Usage: docker/build-image.sh [TAG] [extra docker build arguments...]
# The CA certificates this machine added to its trust store
# (/usr/local/share/ca-certificates/*.crt, e.g. a proxy that re-signs TLS) are
# passed to pip in the build stage (EXTRA_CA_CERT), so the build reaches PyPI
# wherever the host does.
set -euo pipefail
cd "$(dirname "$0")/.."

tag="${1:-sipas-survey}"
shift || true

base="${BASE_IMAGE:-sipas-base:bookworm}"
if [ "$base" = "sipas-base:bookworm" ]; then
  bash docker/build-base.sh
fi

args=(--build-arg "BASE_IMAGE=$base")
local_cas=(/usr/local/share/ca-certificates/*.crt)
if [ -e "${local_cas[0]}" ]; then
  cat "${local_cas[@]}" > docker/extra-ca.local.pem
  args+=(--build-arg EXTRA_CA_CERT=docker/extra-ca.local.pem)
fi

DOCKER_BUILDKIT=0 docker build --network host "${args[@]}" -t "$tag" "$@" .
