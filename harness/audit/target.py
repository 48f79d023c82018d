"""The database an audit or a gate looks at, from its URL.

    postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE   (also postgres://)
    mariadb://USER[:PASSWORD]@HOST[:PORT]/DATABASE      (also mysql://)
    sqlserver://USER[:PASSWORD]@HOST[:PORT]/DATABASE    (also mssql://)

Without a password in the URL, the engine's usual variable is read (PGPASSWORD, MYSQL_PWD,
SQLCMDPASSWORD). The address must be on this machine's loopback (127.0.0.0/8, ::1,
localhost) unless ``allow_remote`` is given: recovery-drill sends no traffic elsewhere unless
told to in so many words. The URL is only ever shown with its password masked.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from harness.errors import InputError
from harness.secrets import redact_url

SCHEMES = {
    "postgresql": "postgres",
    "postgres": "postgres",
    "mariadb": "mariadb",
    "mysql": "mysql",
    "sqlserver": "sqlserver",
    "mssql": "sqlserver",
}
DEFAULT_PORTS = {"postgres": 5432, "mariadb": 3306, "mysql": 3306, "sqlserver": 1433}
PASSWORD_ENV = {
    "postgres": "PGPASSWORD",
    "mariadb": "MYSQL_PWD",
    "mysql": "MYSQL_PWD",
    "sqlserver": "SQLCMDPASSWORD",
}


@dataclass(frozen=True)
class Target:
    """Where to connect, as whom, and how to show it."""

    engine: str  # postgres, mariadb, mysql (the URL's word; the server may say otherwise)
    host: str
    port: int
    user: str
    password: str | None
    database: str
    shown: str  # the URL with its password masked

    @property
    def family(self) -> str:
        """``postgres``, ``mariadb`` (MariaDB and MySQL share a driver) or ``sqlserver``."""
        return "mariadb" if self.engine == "mysql" else self.engine

    def __repr__(self) -> str:  # never the password, even in a traceback or a debug log
        return f"Target({self.shown!r})"


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_target(url: str, *, allow_remote: bool = False) -> Target:
    """The target of ``url``; an ``InputError`` (exit 2) says what is wrong with it."""
    shown = redact_url(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InputError(f"{shown}: not a database URL ({exc})") from None
    engine = SCHEMES.get(parts.scheme.lower())
    if engine is None:
        raise InputError(
            f"{shown}: unknown scheme {parts.scheme!r}; use one of "
            + ", ".join(f"{s}://" for s in SCHEMES)
        )
    host = parts.hostname or ""
    if not host:
        raise InputError(f"{shown}: the URL names no host (e.g. {engine}://user@127.0.0.1/db)")
    if not allow_remote and not is_loopback(host):
        raise InputError(
            f"{shown}: {host} is not on this machine's loopback; recovery-drill connects "
            "elsewhere only with --allow-remote"
        )
    database = unquote(parts.path.lstrip("/"))
    if not database or "/" in database:
        raise InputError(f"{shown}: the URL must name one database after the host (…/DBNAME)")
    user = unquote(parts.username or "")
    if not user:
        raise InputError(f"{shown}: the URL names no user (…://USER@host/db)")
    password = unquote(parts.password) if parts.password is not None else None
    if password is None:
        password = os.environ.get(PASSWORD_ENV[engine])
    return Target(
        engine=engine,
        host=host,
        port=port or DEFAULT_PORTS[engine],
        user=user,
        password=password,
        database=database,
        shown=shown,
    )
