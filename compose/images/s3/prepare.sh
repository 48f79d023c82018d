#!/usr/bin/env bash
# prepare.sh - fetch the wheels of requirements.txt on the host into wheels/ (build context).
# Docker builds here may not reach PyPI; the Dockerfile installs from wheels/ with --no-index.
# Idempotent: skipped when wheels/ already satisfies requirements.txt (stamp of its hash).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
stamp="$HERE/wheels/.requirements.sha256"
want="$(sha256sum "$HERE/requirements.txt" | cut -c1-64)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then exit 0; fi
rm -rf "$HERE/wheels" && mkdir -p "$HERE/wheels"
PY="${PYTHON:-python3}"
"$PY" -m pip download --quiet --disable-pip-version-check --only-binary=:all: \
    --python-version 3.11 --platform manylinux2014_x86_64 --platform manylinux_2_34_x86_64 \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux1_x86_64 --platform manylinux_2_5_x86_64 --platform any \
    -r "$HERE/requirements.txt" -d "$HERE/wheels"
printf '%s' "$want" > "$stamp"
