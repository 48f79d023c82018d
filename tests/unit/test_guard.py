"""The autouse guard really stops Docker and database connections, through the harness too."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import docker
import psycopg
import pymysql
import pytest

from harness.engines import get_engine
from harness.engines.base import Endpoint
from harness.lab.docker_client import docker_client

ATTEMPTS: dict[str, Callable[[], Any]] = {
    "docker.from_env": lambda: docker.from_env(),
    "docker.DockerClient": lambda: docker.DockerClient(base_url="unix:///nonexistent.sock"),
    "docker.APIClient": lambda: docker.APIClient(base_url="unix:///nonexistent.sock"),
    "psycopg.connect": lambda: psycopg.connect("host=127.0.0.1 port=1 connect_timeout=1"),
    "pymysql.connect": lambda: pymysql.connect(host="127.0.0.1", port=1, connect_timeout=1),
    "harness docker_client()": lambda: docker_client(),
    "harness postgres engine connect": lambda: get_engine("postgres").connect(
        Endpoint("127.0.0.1", 1), timeout_s=1
    ),
}


@pytest.mark.parametrize("attempt", ATTEMPTS.values(), ids=ATTEMPTS.keys())
def test_connection_attempts_fail_loudly(
    attempt: Callable[[], Any], no_docker_or_databases: list[str]
) -> None:
    with pytest.raises(AssertionError, match="unit tests must not touch Docker/databases"):
        attempt()
    assert no_docker_or_databases, "the attempt was not recorded"
    no_docker_or_databases.clear()  # expected here; any other test making one fails
