"""Shell that loads a team's own SQL script or mariadb-dump/mysqldump file (gzip or not)
into a MariaDB or MySQL server, run in its container: the engine's own client as root over
the local socket, so ``DELIMITER`` blocks, ``SET`` lines, ``CREATE DATABASE`` and ``USE``
work as for the team. The client stops at the first failing statement with its own message
and line (``ERROR 1064 (42000) at line 12: ...``).

The command prints ``DRILL_DATABASE=<name>`` last: the database the script ended in, unless
the scenario named one.
"""

from __future__ import annotations

import shlex

MARKER = "DRILL_DATABASE="


def script_command(*, client: str, path: str, gzipped: bool, database: str) -> str:
    """``client`` is the logged-in command-line client (e.g. ``MariaDBCore.root_client()``)."""
    read = "gunzip -c" if gzipped else "cat"
    tail = f"\\nDELIMITER ;\\nSELECT CONCAT('{MARKER}', IFNULL(DATABASE(), ''));\\n"
    start = f" {shlex.quote(database)}" if database else ""
    return (
        f"set -o pipefail; {{ {read} {shlex.quote(path)}; printf {shlex.quote(tail)}; }} "
        f"| {client} --batch -N --default-character-set=utf8mb4{start}"
    )
