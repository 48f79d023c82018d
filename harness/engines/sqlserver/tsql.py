"""T-SQL through pyodbc: the driver (imported lazily), quoting, and batches drained of every
result set.

pyodbc runs BACKUP and RESTORE as batches whose errors may arrive in a later result set, after
informational messages: without autocommit the statement fails ("cannot run inside a user
transaction") and without draining every result set a failure goes unnoticed. ``run_batch``
drains them all, so a failed BACKUP raises.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.errors import EngineUnavailable

PORT = 1433
DRIVER_HINT = (
    "install the optional dependency group (`pip install 'recovery-drill[sqlserver]'`) and "
    "Microsoft's ODBC Driver 18 for SQL Server (package msodbcsql18)"
)


def pyodbc_module() -> Any:
    """The pyodbc module, imported only when a SQL Server drill really needs it."""
    try:
        import pyodbc
    except ImportError as exc:  # also raised when unixODBC's libodbc is missing
        raise EngineUnavailable(f"SQL Server needs pyodbc ({exc}); {DRIVER_HINT}") from exc
    return pyodbc


def odbc_driver(installed: Sequence[str]) -> str:
    """The newest "ODBC Driver NN for SQL Server" among the installed ODBC drivers."""
    found = sorted(
        (int(name.split()[2]), name)
        for name in installed
        if name.startswith("ODBC Driver ")
        and name.endswith(" for SQL Server")
        and name.split()[2].isdigit()
    )
    if not found:
        raise EngineUnavailable(
            f"no Microsoft ODBC driver for SQL Server installed (found: "
            f"{', '.join(installed) or 'none'}); {DRIVER_HINT}"
        )
    return found[-1][1]


def quote_literal(text: str) -> str:
    """A T-SQL N'...' literal."""
    return "N'" + text.replace("'", "''") + "'"


def quote_name(name: str) -> str:
    """A T-SQL [identifier]."""
    return "[" + name.replace("]", "]]") + "]"


def run_batch(conn: Any, sql: str, params: Sequence[Any] = ()) -> list[list[tuple[Any, ...]]]:
    """Execute ``sql`` and drain every result set; an error in any of them raises.

    Returns the rows of each result set that has columns (in order). BACKUP and RESTORE report
    progress as messages and their failures (e.g. error 3201, then 3013 "BACKUP DATABASE is
    terminating abnormally") only when the driver reaches that result set.
    """
    cursor = conn.cursor()
    try:
        cursor.execute(sql, *([tuple(params)] if params else []))
        results: list[list[tuple[Any, ...]]] = []
        while True:
            if cursor.description is not None:
                results.append([tuple(r) for r in cursor.fetchall()])
            if not cursor.nextset():
                return results
    finally:
        cursor.close()
