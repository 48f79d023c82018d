"""The official mariadb / mysql image interface as a testcontainers container."""

from __future__ import annotations

import shlex

from testcontainers.core.container import DockerContainer

from harness.engines.base import Credentials
from harness.engines.mariadb.flavor import Flavor
from harness.lab.readiness import ExecUntilReady

PORT = 3306
READY_TIMEOUT_S = 120
READY_POLL_S = 0.2


class MariaDBContainer(DockerContainer):
    """The official mariadb / mysql image interface; ready when the drill account can query
    over TCP (the images' temporary init server listens on a socket only)."""

    def __init__(
        self,
        image: str,
        *,
        flavor: Flavor,
        credentials: Credentials,
        root_password: str,
        command: list[str],
        wait: bool = True,
    ) -> None:
        super().__init__(image)
        c, prefix = credentials, flavor.env_prefix
        self.with_exposed_ports(PORT)
        self.with_env(f"{prefix}_ROOT_PASSWORD", root_password)
        self.with_env(f"{prefix}_DATABASE", c.database)
        self.with_env(f"{prefix}_USER", c.user)
        self.with_env(f"{prefix}_PASSWORD", c.password)
        self.with_command(command)
        if not wait:
            # A server on a prepared data directory: the caller judges readiness.
            return
        ready = (
            f'MYSQL_PWD="${prefix}_PASSWORD" {flavor.client} --protocol=tcp -h 127.0.0.1 '
            f"-P {PORT} -u {shlex.quote(c.user)} -e 'SELECT 1' {shlex.quote(c.database)}"
        )
        self.waiting_for(
            ExecUntilReady(["sh", "-c", ready])
            .with_startup_timeout(READY_TIMEOUT_S)
            .with_poll_interval(READY_POLL_S)
        )
