#!/usr/bin/env bash
# build.sh - build the local database engine images used by recovery-drill.
#
# Why: air-gapped / registry-less machines cannot `docker pull postgres` or
# `mariadb`. These images are built from Debian bookworm packages instead
# (PostgreSQL 15, MariaDB 10.11) and honour the official images' interface
# (env vars, data dirs, entrypoint behaviour), so testcontainers and the
# harness use them unchanged. Nothing here contacts a container registry.
#
#   recovery-drill/debian-base:bookworm   mmdebstrap rootfs + `docker import`
#   recovery-drill/postgres:15-bookworm   FROM base, postgres/Dockerfile
#   recovery-drill/mariadb:10.11-bookworm FROM base, mariadb/Dockerfile
#   recovery-drill/s3:moto                FROM base, s3/Dockerfile (S3 server + client;
#                                         s3/prepare.sh fetches its wheels on the host)
#   recovery-drill/tool:local             FROM base, recovery-drill/Dockerfile: the tool
#                                         itself; opt-in (`build.sh tool`, `make tool-image`),
#                                         never built by default; always rebuilt when asked
#
# Second major versions (issue 14), from Debian trixie packages, same entrypoints:
#   recovery-drill/debian-base:trixie     mmdebstrap rootfs (trixie/base/)
#   recovery-drill/postgres:17-trixie     trixie/postgres/Dockerfile (PostgreSQL 17,
#                                         plus bookworm's PostgreSQL 15 binaries for pg_upgrade)
#   recovery-drill/mariadb:11.8-trixie    trixie/mariadb/Dockerfile (MariaDB 11.8)
#
# Usage: build.sh [--rebuild] [base|postgres|mariadb|s3|base-trixie|postgres-17|mariadb-11.8|tool ...]
#   Idempotent: an image that already exists is skipped, unless --rebuild is
#   given or its recipe changed since it was built (each image carries a
#   label with a hash of its recipe files and of the base image it came from).
#
# Environment:
#   DEBIAN_MIRROR   mirror for mmdebstrap (default: mmdebstrap's own default,
#                   the Debian mirror; updates+security are added for stable)
#   MMDEBSTRAP_ARGS extra arguments for mmdebstrap (word-split)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BASE_TAG="recovery-drill/debian-base:bookworm"
PG_TAG="recovery-drill/postgres:15-bookworm"
MARIADB_TAG="recovery-drill/mariadb:10.11-bookworm"
S3_TAG="recovery-drill/s3:moto"
TOOL_TAG="recovery-drill/tool:local"
TRIXIE_BASE_TAG="recovery-drill/debian-base:trixie"
PG17_TAG="recovery-drill/postgres:17-trixie"
MARIADB118_TAG="recovery-drill/mariadb:11.8-trixie"
HASH_LABEL="io.recovery-drill.recipe-hash"

REBUILD=0
WANT=()
for arg in "$@"; do
    case "$arg" in
        --rebuild) REBUILD=1 ;;
        -h|--help) sed -n '2,33p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        base|postgres|mariadb|s3) WANT+=("$arg") ;;
        base-trixie|postgres-17|mariadb-11.8) WANT+=("$arg") ;;
        tool) WANT+=("$arg") ;;
        *) echo "build.sh: unknown argument: $arg" >&2; exit 2 ;;
    esac
done
ALL_IMAGES=0; (( ${#WANT[@]} )) || ALL_IMAGES=1
(( ${#WANT[@]} )) || WANT=(base postgres mariadb s3)
if (( ALL_IMAGES )); then WANT+=(base-trixie postgres-17 mariadb-11.8); fi
wants() { local w; for w in "${WANT[@]}"; do [[ "$w" == "$1" ]] && return 0; done; return 1; }

say() { printf 'build.sh: %s\n' "$*"; }

docker info >/dev/null 2>&1 || {
    echo "build.sh: no Docker Engine answers; run compose/setup-engine.sh first" >&2
    exit 1
}

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }
image_label() { docker image inspect --format "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true; }
image_id() { docker image inspect --format '{{.Id}}' "$1"; }
# Hash of a set of files (names + contents) plus any extra strings.
recipe_hash() {
    { for f in "$@"; do
          if [[ -f "$f" ]]; then printf '%s\n' "${f#"$HERE"/}"; cat "$f"; else printf '%s\n' "$f"; fi
      done; } | sha256sum | cut -c1-16
}

# Decide whether to (re)build: 0 = build, 1 = skip.
need_build() {
    local tag="$1" hash="$2"
    if (( REBUILD )); then say "$tag: --rebuild given, rebuilding"; return 0; fi
    if ! image_exists "$tag"; then say "$tag: not present, building"; return 0; fi
    local have; have="$(image_label "$tag" "$HASH_LABEL")"
    if [[ "$have" != "$hash" ]]; then
        say "$tag: recipe changed (${have:-none} -> $hash), rebuilding"; return 0
    fi
    say "$tag: already built (recipe $hash), skipping"
    return 1
}

timed() {  # timed LABEL cmd...
    local t0=$SECONDS; "${@:2}"; say "$1 took $(( SECONDS - t0 ))s"
}

# --- base: Debian bookworm rootfs from packages -------------------------------
build_base() {  # build_base HASH [SUITE DIR TAG DESCRIPTION]
    local suite="${2:-bookworm}" dir="${3:-$HERE/base}" tag="${4:-$BASE_TAG}"
    local desc="${5:-Local build: Debian bookworm minbase with PostgreSQL 15 and MariaDB 10.11 from Debian packages (mmdebstrap), for registry-less machines}"
    local hooks=()
    [[ -f "$dir/essential-hook.sh" ]] && hooks=(--essential-hook="sh '$dir/essential-hook.sh' \"\$1\"")
    local pkgs; pkgs="$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$dir/packages.txt" | paste -sd, -)"
    if ! command -v mmdebstrap >/dev/null 2>&1; then
        if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
            echo "build.sh: mmdebstrap is needed (apt-get install mmdebstrap) to build $tag" >&2
            exit 1
        fi
        say "installing mmdebstrap"
        if ! apt-cache policy mmdebstrap 2>/dev/null | grep -q 'Candidate: [0-9]'; then
            DEBIAN_FRONTEND=noninteractive apt-get update -q
        fi
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q mmdebstrap
    fi
    local tmp; tmp="$(mktemp -d /tmp/recovery-drill-base.XXXXXX)"
    # shellcheck disable=SC2064
    trap "rm -rf '$tmp'" EXIT
    local mirror=()
    [[ -n "${DEBIAN_MIRROR:-}" ]] && mirror=("$DEBIAN_MIRROR")
    say "mmdebstrap $suite with: $pkgs"
    # Docs, man pages and translations are dropped to keep the image lean.
    # shellcheck disable=SC2086
    mmdebstrap --variant=minbase \
        --include="$pkgs" \
        --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/info/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-include=/usr/share/doc/*/copyright' \
        "${hooks[@]}" \
        --customize-hook="sh '$dir/customize.sh' \"\$1\"" \
        ${MMDEBSTRAP_ARGS:-} \
        "$suite" "$tmp/rootfs.tar" "${mirror[@]}"
    say "docker import -> $tag ($(du -h "$tmp/rootfs.tar" | cut -f1) tar)"
    docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'CMD ["bash"]' \
        --change "LABEL $HASH_LABEL=$1" \
        --change 'LABEL org.opencontainers.image.title="recovery-drill debian-base"' \
        --change "LABEL org.opencontainers.image.description=\"$desc\"" \
        --change 'LABEL org.opencontainers.image.source="recovery-drill: compose/images/build.sh"' \
        --change "LABEL org.opencontainers.image.base.name=\"debian:$suite (mmdebstrap, not pulled)\"" \
        "$tmp/rootfs.tar" "$tag" >/dev/null
    rm -rf "$tmp"
    trap - EXIT
}

# --- engine images: plain Dockerfiles FROM the base ----------------------------
build_engine() {  # build_engine DIR TAG HASH [DOCKERFILE]
    # The legacy builder never pulls a FROM image that exists locally (no
    # --pull); BuildKit may be absent on Debian's docker.io, so force legacy.
    # Output is shown only on failure (hides the legacy-builder deprecation note).
    local out rc=0
    out="$(DOCKER_BUILDKIT=0 docker build --quiet \
        --label "$HASH_LABEL=$3" \
        ${4:+-f "$HERE/$4"} \
        -t "$2" "$HERE/$1" 2>&1)" || rc=$?
    if (( rc )); then
        printf '%s\n' "$out" >&2
        echo "build.sh: building $2 failed (exit $rc)" >&2
        return "$rc"
    fi
}

base_hash="$(recipe_hash "$HERE/base/packages.txt" "$HERE/base/customize.sh")"
if wants base || ! image_exists "$BASE_TAG"; then
    if need_build "$BASE_TAG" "$base_hash"; then
        timed "$BASE_TAG" build_base "$base_hash"
    fi
fi

base_id="$(image_id "$BASE_TAG")"
for spec in "postgres:$PG_TAG" "mariadb:$MARIADB_TAG" "s3:$S3_TAG"; do
    dir="${spec%%:*}" tag="${spec#*:}"
    wants "$dir" || continue
    mapfile -t files < <(find "$HERE/$dir" -type f -not -path '*/wheels/*' | LC_ALL=C sort)
    h="$(recipe_hash "${files[@]}" "$base_id")"
    if need_build "$tag" "$h"; then
        if [[ -x "$HERE/$dir/prepare.sh" ]]; then "$HERE/$dir/prepare.sh"; fi
        timed "$tag" build_engine "$dir" "$tag" "$h"
    fi
done

# --- second major versions: Debian trixie (issue 14) ---------------------------
# Engine images build with compose/images as context: they share the bookworm
# images' entrypoints (postgres/, mariadb/), which are part of their hashes.
trixie_wanted=0
for w in base-trixie postgres-17 mariadb-11.8; do wants "$w" && trixie_wanted=1; done
if (( trixie_wanted )); then
    trixie_hash="$(recipe_hash "$HERE/trixie/base/packages.txt" "$HERE/trixie/base/customize.sh" \
        "$HERE/trixie/base/essential-hook.sh")"
    if wants base-trixie || ! image_exists "$TRIXIE_BASE_TAG"; then
        if need_build "$TRIXIE_BASE_TAG" "$trixie_hash"; then
            timed "$TRIXIE_BASE_TAG" build_base "$trixie_hash" trixie "$HERE/trixie/base" "$TRIXIE_BASE_TAG" \
                "Local build: Debian trixie minbase with PostgreSQL 17 and MariaDB 11.8 from Debian packages (mmdebstrap), for registry-less machines"
        fi
    fi
    trixie_id="$(image_id "$TRIXIE_BASE_TAG")"
    # The PostgreSQL 17 image also takes PostgreSQL 15's binaries from the bookworm base.
    for spec in "postgres-17|$PG17_TAG|postgres|$(image_id "$BASE_TAG")" "mariadb-11.8|$MARIADB118_TAG|mariadb|"; do
        IFS='|' read -r name tag shared extra_id <<<"$spec"
        wants "$name" || continue
        mapfile -t files < <(find "$HERE/trixie/${shared}" "$HERE/$shared" -type f | LC_ALL=C sort)
        h="$(recipe_hash "${files[@]}" "$trixie_id" ${extra_id:+"$extra_id"})"
        if need_build "$tag" "$h"; then
            timed "$tag" build_engine . "$tag" "$h" "trixie/$shared/Dockerfile"
        fi
    done
fi


# --- the tool image (opt-in): a wheelhouse made on the host, installed --no-index ----------
build_tool() {
    local repo ctx pip
    repo="$(cd "$HERE/../.." && pwd)"
    ctx="$repo/build/tool-image"
    pip="$repo/.venv/bin/pip"
    [[ -x "$pip" ]] || pip="python3 -m pip"
    rm -rf "$ctx"
    mkdir -p "$ctx/wheels"
    cp "$HERE/recovery-drill/Dockerfile" "$ctx/"
    cp -r "$repo/scenarios" "$repo/drills" "$ctx/"
    say "wheelhouse: recovery-drill and its dependencies (pip wheel, on the host)"
    # shellcheck disable=SC2086
    $pip wheel --quiet --wheel-dir "$ctx/wheels" "$repo" pytest 2>&1 \
        | grep -v "^WARNING: Location" >&2 || true
    ls "$ctx"/wheels/recovery_drill-*.whl >/dev/null || {
        echo "build.sh: pip wheel did not produce the recovery-drill wheel" >&2; exit 1; }
    # --network host: the RUN apt-get reaches the Debian mirror the way the host does.
    local out rc=0
    out="$(DOCKER_BUILDKIT=0 docker build --quiet --network host \
        --label "$HASH_LABEL=$1" -t "$TOOL_TAG" "$ctx" 2>&1)" || rc=$?
    if (( rc )); then
        printf '%s\n' "$out" >&2
        echo "build.sh: building $TOOL_TAG failed (exit $rc)" >&2
        return "$rc"
    fi
}

if wants tool; then
    say "$TOOL_TAG: building (opt-in)"
    timed "$TOOL_TAG" build_tool "$(recipe_hash "$HERE/recovery-drill/Dockerfile" "$base_id")"
fi

# Drop our own superseded (now untagged) images after a rebuild (not for `tool` alone: the
# engine images' leftovers are whoever built them's to drop).
if wants base || wants postgres || wants mariadb || wants s3 || (( trixie_wanted )); then
    docker image prune -f --filter "label=$HASH_LABEL" >/dev/null || true
fi

say "images:"
docker image ls --format '{{.Repository}}:{{.Tag}}  {{.Size}}' | sed -n 's|^recovery-drill/|  &|p'
