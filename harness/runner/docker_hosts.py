"""Drills spread over several Docker engines (``run --docker-host URL``, repeatable).

Each drill runs in a process of its own (``harness.runner.parallel``) whose ``DOCKER_HOST``
names its engine, so the Docker client and testcontainers in that process talk to that engine
only. Drills are dealt to the engines in turn, in the plan's order.

The harness reaches a drill's servers only on 127.0.0.1 and the ports the engine publishes
there: that is the engine's own host only for an engine on this machine. So an engine is a
local Unix socket (``unix:///run/docker-b.sock``) or a TCP endpoint on the loopback
(``tcp://127.0.0.1:2376``); a remote engine is refused as bad input rather than connected to
an address it does not expose. (Remote engines need a tool process on their own host: run the
tool image there, see ``ci/``.)
"""

from __future__ import annotations

from urllib.parse import urlsplit

from harness.errors import InputError

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def check_docker_host(url: str) -> str:
    """``url`` if it names an engine on this machine; else InputError saying why."""
    parts = urlsplit(url)
    if parts.scheme == "unix" and parts.path:
        return url
    if parts.scheme in ("tcp", "http") and parts.hostname in LOOPBACK and parts.port:
        return url
    raise InputError(
        f"--docker-host {url!r}: expected unix:///path/to/docker.sock or tcp://127.0.0.1:PORT "
        "(an engine on this machine: drills connect only to the ports an engine publishes on "
        "127.0.0.1, which are that engine's only when it runs here)"
    )


def deal(count: int, hosts: list[str]) -> list[str | None]:
    """The engine of each of ``count`` drills, in turn (None: the default engine)."""
    if not hosts:
        return [None] * count
    return [hosts[i % len(hosts)] for i in range(count)]
