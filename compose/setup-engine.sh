#!/usr/bin/env bash
# setup-engine.sh - make sure a Docker Engine answers `docker info`.
#
# Idempotent: safe to run repeatedly and while dockerd is already running.
#   * engine already reachable            -> print one line, exit 0
#   * root on Debian (apt-get available)  -> install docker.io if dockerd is
#                                            missing, start dockerd in the
#                                            background, wait for it, exit 0
#   * anything else                        -> explain what to do, exit 3
#
# Environment knobs:
#   DOCKERD_LOG           where the background dockerd logs
#                         (default /var/log/recovery-drill-dockerd.log)
#   DOCKERD_WAIT_SECONDS  how long to wait for `docker info` (default 60)
#   DOCKERD_ARGS          flags for the dockerd we start (default:
#                         --ip=127.0.0.1, so a port published without an
#                         explicit host IP still binds to loopback only)
#   DOCKERD_FALLBACK_ARGS added if that dockerd exits at once
#                         (default: --iptables=false)
set -euo pipefail

LOG="${DOCKERD_LOG:-/var/log/recovery-drill-dockerd.log}"
WAIT="${DOCKERD_WAIT_SECONDS:-60}"
# shellcheck disable=SC2206  # word-splitting of the flag strings is intended
START_ARGS=(${DOCKERD_ARGS---ip=127.0.0.1})
# shellcheck disable=SC2206
FALLBACK_ARGS=(${DOCKERD_FALLBACK_ARGS---iptables=false})

say() { printf 'setup-engine: %s\n' "$*"; }

engine_up() { docker info >/dev/null 2>&1; }

# Poll `docker info` until it answers or the deadline passes.
wait_for_engine() {
    local deadline=$(( $(date +%s) + WAIT ))
    while (( $(date +%s) < deadline )); do
        if engine_up; then return 0; fi
        # Stop waiting early if the dockerd we started has died.
        if [[ -n "${1:-}" ]] && ! kill -0 "$1" 2>/dev/null; then return 1; fi
        sleep 1
    done
    engine_up
}

if command -v docker >/dev/null 2>&1 && engine_up; then
    say "Docker Engine already running ($(docker info --format '{{.ServerVersion}} {{.Driver}}' 2>/dev/null || echo '?'))"
    exit 0
fi

is_root=0; [[ "$(id -u)" == 0 ]] && is_root=1
is_debian=0; [[ -f /etc/debian_version ]] && command -v apt-get >/dev/null 2>&1 && is_debian=1

if (( ! is_root || ! is_debian )); then
    cat >&2 <<'EOF'
setup-engine: no Docker Engine answers `docker info`, and this script only
installs one automatically when run as root on Debian/Ubuntu. Please either:
  1. install Docker Engine (https://docs.docker.com/engine/install/), e.g. on
     Debian/Ubuntu: sudo apt-get install docker.io
  2. start it:   sudo systemctl start docker   (or: sudo dockerd &)
  3. let your user talk to it without sudo:
                 sudo usermod -aG docker "$USER"   (then log out and back in)
  or point the client at a running engine elsewhere on this machine:
                 export DOCKER_HOST=unix:///path/to/docker.sock
Then re-run: make setup
EOF
    exit 3
fi

# --- root on Debian: install what is missing -------------------------------
export DEBIAN_FRONTEND=noninteractive
if ! command -v dockerd >/dev/null 2>&1; then
    # Only refresh the package lists when apt does not know docker.io yet.
    if ! apt-cache policy docker.io 2>/dev/null | grep -q 'Candidate: [0-9]'; then
        say "apt-get update"
        apt-get update -q
    fi
    say "installing docker.io"
    apt-get install -y -q --no-install-recommends docker.io
fi
if ! command -v docker >/dev/null 2>&1; then
    # dockerd present but no client (unusual): docker.io ships both.
    apt-get install -y -q --no-install-recommends docker.io
fi

# --- start dockerd unless one is already starting/running -------------------
start_dockerd() {
    say "starting dockerd $* (log: $LOG)"
    # setsid: the engine must outlive the shell (and process group) that started it.
    setsid nohup dockerd "$@" >>"$LOG" 2>&1 </dev/null &
    DOCKERD_PID=$!
}

DOCKERD_PID=""
if pgrep -x dockerd >/dev/null 2>&1; then
    # A dockerd exists but did not answer yet (e.g. still starting): wait for it.
    say "dockerd process already present, waiting for it to answer"
else
    mkdir -p "$(dirname "$LOG")"
    start_dockerd "${START_ARGS[@]}"
fi

if wait_for_engine "$DOCKERD_PID"; then
    say "Docker Engine ready ($(docker info --format '{{.ServerVersion}} {{.Driver}}' 2>/dev/null || echo '?'))"
    exit 0
fi

# dockerd did not come up: retry once with fallback flags (e.g. when
# iptables is unavailable in a nested container).
if [[ -n "$DOCKERD_PID" ]] && ! kill -0 "$DOCKERD_PID" 2>/dev/null; then
    say "dockerd exited; retrying with: ${START_ARGS[*]} ${FALLBACK_ARGS[*]}"
    start_dockerd "${START_ARGS[@]}" "${FALLBACK_ARGS[@]}"
    if wait_for_engine "$DOCKERD_PID"; then
        say "Docker Engine ready ($(docker info --format '{{.ServerVersion}} {{.Driver}}' 2>/dev/null || echo '?'))"
        exit 0
    fi
fi

say "Docker Engine did not answer within ${WAIT}s; last lines of $LOG:" >&2
tail -n 20 "$LOG" >&2 || true
exit 1
