#!/usr/bin/env bash
# Build the base image sipas-base:bookworm from Debian's own packages.
#
# Why: the Dockerfile's default base must build on a machine that reaches
# Debian's archive and PyPI but no container registry. debootstrap lays out a
# minimal Debian bookworm (the same release as python:3.11-slim-bookworm, whose
# python3 is 3.11) and `docker import` turns the folder into an image.
#
# Usage: docker/build-base.sh [--force]     (root; needs debootstrap and docker)
#   DEBIAN_MIRROR  archive to bootstrap from (default http://deb.debian.org/debian)
#   BASE_TAG       image name (default sipas-base:bookworm)
# An existing image is kept unless --force is given: the base changes only when
# Debian publishes updates, and the Dockerfile's apt-get pulls those anyway.
set -euo pipefail

MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
TAG="${BASE_TAG:-sipas-base:bookworm}"

if [ "${1:-}" != "--force" ] && docker image inspect "$TAG" >/dev/null 2>&1; then
  echo "$TAG already exists (docker/build-base.sh --force rebuilds it)"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "debootstrap needs root" >&2
  exit 1
fi
command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install debootstrap" >&2; exit 1; }

root="$(mktemp -d /var/tmp/sipas-base.XXXXXX)"
trap 'rm -rf "$root"' EXIT

debootstrap --variant=minbase bookworm "$root" "$MIRROR"

# Updates and security fixes come from the same archive when the Dockerfile
# runs apt-get; the security suite lives beside the main one.
cat > "$root/etc/apt/sources.list" <<SOURCES
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb ${MIRROR%/debian}/debian-security bookworm-security main
SOURCES
# Like the official slim images: no recommends, no documentation or locales
# beyond C.UTF-8, and no package lists left in the layer.
cat > "$root/etc/apt/apt.conf.d/90sipas" <<'CONF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
CONF
cat > "$root/etc/dpkg/dpkg.cfg.d/90sipas-nodoc" <<'CONF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
CONF
# glibc's iconv modules (8 MB): nothing in the image converts charsets with
# iconv; Python's codecs are its own.
rm -rf "$root"/usr/lib/x86_64-linux-gnu/gconv
rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
  "$root"/usr/share/locale/* "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin \
  "$root"/var/cache/apt/archives/*.deb "$root"/var/log/*.log

tar --numeric-owner -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["bash"]' \
  - "$TAG"
docker image ls "$TAG"
