#!/usr/bin/env bash
# Builds the course image the container tests and the z-fit example use, on a machine that
# reaches Debian's mirror and PyPI but no image registry: the offline base (build-offline.sh),
# then this folder's Dockerfile on top of it.
#
#   sandbox/container/build-image.sh [TAG]        (default tag: autograder-course:bookworm)
#
# Needs root and a running Docker daemon. An image built from the same recipe is reused: the
# recipe's hash is a label on the image, so editing the Dockerfile or a script rebuilds it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tag="${1:-autograder-course:bookworm}"
base="autograder-base:bookworm"
recipe="$(cat "$here/Dockerfile" "$here/build-offline.sh" "$here/build-image.sh" | sha256sum | cut -c1-16)"
if [ "$(docker image inspect --format '{{index .Config.Labels "autograder.recipe"}}' "$tag" 2>/dev/null)" = "$recipe" ]; then
  echo "$tag is built from this recipe ($recipe); reusing it"
  exit 0
fi
if ! command -v debootstrap >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq debootstrap
fi
"$here/build-offline.sh" "$base"
docker build --build-arg "BASE=$base" --label "autograder.recipe=$recipe" -t "$tag" "$here"
docker run --rm --network none "$tag" python3 -c \
  'import numpy, scipy, sklearn, pandas, matplotlib, uproot, awkward; print("course image ok: numpy", numpy.__version__, "scipy", scipy.__version__)'
