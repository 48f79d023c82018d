"""The official SQL Server image as a testcontainers container."""

from __future__ import annotations

import shlex

from testcontainers.core.container import DockerContainer

from harness.engines.base import Credentials
from harness.engines.sqlserver.tsql import PORT, quote_literal, quote_name
from harness.lab.readiness import ExecUntilReady

READY_TIMEOUT_S = 180
READY_POLL_S = 0.5
# 2022 images ship mssql-tools18 (sqlcmd/bcp need -C / -u to trust the self-signed
# certificate); older ones mssql-tools. The shell picks whichever exists.
TOOLS = 'T="$(ls -d /opt/mssql-tools18/bin /opt/mssql-tools/bin 2>/dev/null | head -n1)"'


class SqlServerContainer(DockerContainer):
    """The official SQL Server image; ready when sa can log in and the drill database exists
    (the image has no variable that creates a database, so readiness creates it once)."""

    def __init__(self, image: str, *, credentials: Credentials, wait: bool = True) -> None:
        super().__init__(image)
        self.with_exposed_ports(PORT)
        self.with_env("ACCEPT_EULA", "Y")
        self.with_env("MSSQL_SA_PASSWORD", credentials.password)
        self.with_env("MSSQL_PID", "Developer")
        if not wait:
            return
        db = credentials.database
        create = f"IF DB_ID({quote_literal(db)}) IS NULL CREATE DATABASE {quote_name(db)}"
        ready = (
            f'{TOOLS}; SQLCMDPASSWORD="$MSSQL_SA_PASSWORD" "$T/sqlcmd" -C -b -S localhost '
            f"-U {shlex.quote(credentials.user)} -Q {shlex.quote(create)}"
        )
        self.waiting_for(
            ExecUntilReady(["bash", "-c", ready])
            .with_startup_timeout(READY_TIMEOUT_S)
            .with_poll_interval(READY_POLL_S)
        )
