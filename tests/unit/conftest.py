"""Unit-test wiring: no unit test may reach a Docker engine or a database server.

The autouse guard replaces every way the harness (or testcontainers under it) opens a Docker
client or a database connection with a function that raises AssertionError. Because the harness
may catch broad exceptions (a probe failing is "not yet"), every attempt is also recorded and
the guard fails the test at teardown if there was any, so a swallowed attempt still fails loudly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import docker
import docker.api.client
import docker.client
import psycopg
import pymysql.connections
import pytest

GUARD_MESSAGE = "unit tests must not touch Docker/databases"


def _refuser(what: str, attempts: list[str]) -> Callable[..., NoReturn]:
    def refuse(*args: Any, **kwargs: Any) -> NoReturn:
        attempts.append(what)
        raise AssertionError(f"{GUARD_MESSAGE} (called {what})")

    return refuse


@pytest.fixture(autouse=True)
def no_docker_or_databases(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Refuse Docker and database connections; yield the list of attempts made."""
    attempts: list[str] = []
    targets: list[tuple[object, str, str]] = [
        (docker, "from_env", "docker.from_env"),
        (docker.client, "from_env", "docker.client.from_env"),
        (docker.client.DockerClient, "__init__", "docker.DockerClient()"),
        (docker.api.client.APIClient, "__init__", "docker.APIClient()"),
        (psycopg, "connect", "psycopg.connect"),
        (psycopg.Connection, "connect", "psycopg.Connection.connect"),
        (psycopg.AsyncConnection, "connect", "psycopg.AsyncConnection.connect"),
        # pymysql.connect, pymysql.Connect and pymysql.Connection are all this class.
        (pymysql.connections.Connection, "__init__", "pymysql.connect"),
    ]
    try:  # the SQL Server driver is an optional extra
        import pyodbc
    except ImportError:
        pass
    else:
        targets.append((pyodbc, "connect", "pyodbc.connect"))
    for owner, attribute, what in targets:
        monkeypatch.setattr(owner, attribute, _refuser(what, attempts))
    yield attempts
    assert not attempts, f"{GUARD_MESSAGE}, but this test tried: {', '.join(attempts)}"
