#!/usr/bin/env bash
# Builds the offline base image for the container backend on a machine that reaches Debian's
# package mirror but no image registry: debootstrap a minimal Debian with Python 3 and the
# scientific stack from Debian's packages, then `docker import` it.
#
#   sandbox/container/build-offline.sh [TAG]        (default tag: autograder-base:bookworm)
#
# Needs root, debootstrap and a running Docker daemon. Reuses the image when it exists.
set -euo pipefail
tag="${1:-autograder-base:bookworm}"
if docker image inspect "$tag" >/dev/null 2>&1; then
  echo "$tag exists; reusing it"
  exit 0
fi
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
packages=python3-minimal,python3-pip,python3-numpy,python3-scipy,python3-sklearn,python3-pandas,python3-matplotlib,ca-certificates
debootstrap --variant=minbase --include="$packages" bookworm "$root" "$mirror"
# Packages Debian lacks come from PyPI: downloaded here (with this machine's trust settings),
# installed inside the root from those files only.
mkdir -p "$root/tmp/wheels"
python3 -m pip download --only-binary=:all: --python-version 3.11 --platform manylinux2014_x86_64 \
  --platform manylinux_2_17_x86_64 -d "$root/tmp/wheels" uproot awkward
chroot "$root" python3 -m pip install --no-index --find-links /tmp/wheels --break-system-packages uproot awkward
rm -rf "$root/tmp/wheels"
# Matplotlib without a display; no caches to write in a read-only root.
mkdir -p "$root/etc/matplotlib" && echo "backend: Agg" > "$root/etc/matplotlib/matplotlibrc"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | docker import -c 'ENV MPLBACKEND=Agg PYTHONDONTWRITEBYTECODE=1' - "$tag"
docker run --rm --network none "$tag" python3 -c 'import numpy, scipy, sklearn, pandas, matplotlib, uproot, awkward; print("ok", numpy.__version__, scipy.__version__, sklearn.__version__, uproot.__version__)'
