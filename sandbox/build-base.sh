#!/usr/bin/env bash
# Builds the sandbox's offline base image with debootstrap when no registry answers.
# Usage: build-base.sh [--tar FILE] IMAGE_TAG [MIRROR]
#   without --tar: imports the root file system with `docker import` as IMAGE_TAG;
#   with --tar FILE: writes the root file system to FILE instead (eval-agent then imports it
#   through the Docker API, so no docker CLI is needed).
# Needs root (debootstrap chroots) and debootstrap; the packages come from the Debian mirror,
# so the image build that follows needs no network.
set -euo pipefail
out_tar=
if [ "${1:-}" = "--tar" ]; then out_tar=${2:?--tar needs a FILE}; shift 2; fi
tag=${1:?usage: build-base.sh [--tar FILE] IMAGE_TAG [MIRROR]}
mirror=${2:-http://deb.debian.org/debian}
[ "$(id -u)" = 0 ] || { echo "build-base.sh needs root (debootstrap chroots): run it with sudo" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install debootstrap" >&2; exit 1; }
packages=$(grep -v '^#' "$(dirname "$0")/packages.txt" | xargs | tr ' ' ',')
root=$(mktemp -d /tmp/eval-agent-base.XXXXXX)
trap 'rm -rf "$root" "$root.log"' EXIT
debootstrap --variant=minbase --include="$packages" bookworm "$root" "$mirror" >"$root.log" 2>&1 || {
  tail -20 "$root.log" >&2; exit 1; }
# apt caches and lists are not needed at run time
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
if [ -n "$out_tar" ]; then
  tar -C "$root" -cf "$out_tar" .
else
  tar -C "$root" -c . | docker import - "$tag" >/dev/null
fi
echo "$tag"
