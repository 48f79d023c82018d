"""One audit: connect read-only, collect the facts, judge them, add what the history proves."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from harness.audit import mariadb, postgres, sqlserver
from harness.audit.model import AuditReport, Finding, sorted_findings
from harness.audit.proof import judge_proofs, restore_proofs
from harness.audit.target import Target
from harness.errors import InfrastructureError
from harness.report.history import History
from harness.secrets import redact

CONNECT_TIMEOUT_S = 10


def connect(target: Target, *, timeout_s: float = CONNECT_TIMEOUT_S) -> Any:
    """An autocommit connection to ``target``, or InfrastructureError (exit 3) saying why."""
    secrets = [target.password] if target.password else []
    try:
        if target.family == "postgres":
            import psycopg

            return psycopg.connect(
                host=target.host,
                port=target.port,
                user=target.user,
                password=target.password,
                dbname=target.database,
                connect_timeout=max(1, int(timeout_s)),
                autocommit=True,
                application_name="recovery-drill audit",
            )
        if target.family == "mariadb":
            import pymysql

            return pymysql.connect(
                host=target.host,
                port=target.port,
                user=target.user,
                password=target.password or "",
                database=target.database,
                connect_timeout=max(1, int(timeout_s)),
                read_timeout=60,
                autocommit=True,
            )
        import pyodbc  # pragma: no cover - SQL Server is not verifiable on the build machines

        return pyodbc.connect(  # pragma: no cover
            "DRIVER={ODBC Driver 18 for SQL Server};"
            f"SERVER={target.host},{target.port};DATABASE={target.database};"
            f"UID={target.user};PWD={target.password or ''};TrustServerCertificate=yes",
            autocommit=True,
            timeout=int(timeout_s),
        )
    except ImportError as exc:
        raise InfrastructureError(
            f"{target.shown}: the {target.family} driver is not installed ({exc.name}); "
            "for SQL Server: pip install 'recovery-drill[sqlserver]'"
        ) from None
    except Exception as exc:  # the drivers' own errors: the database cannot be reached
        message = redact(
            str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc), secrets
        )
        raise InfrastructureError(f"{target.shown}: cannot connect: {message}") from None


def driver_errors(target: Target) -> tuple[type[BaseException], ...]:
    """The errors a driver raises for a failed query (anything else is a bug, not exit 3)."""
    if target.family == "postgres":
        import psycopg

        return (psycopg.Error,)
    if target.family == "mariadb":
        import pymysql

        return (pymysql.MySQLError,)
    import pyodbc  # pragma: no cover

    return (pyodbc.Error,)  # pragma: no cover


def collect_and_judge(target: Target, conn: Any) -> tuple[str, str, str, list[Finding], list[Any]]:
    """(engine, version, database, findings, tables) of the connected database."""
    if target.family == "postgres":
        pg = postgres.collect(conn)
        return "postgres", pg.version, pg.database, postgres.judge(pg), pg.tables
    if target.family == "mariadb":
        m = mariadb.collect(conn)
        return m.flavor, m.version, m.database, mariadb.judge(m), m.tables
    s = sqlserver.collect(conn)  # pragma: no cover
    return "sqlserver", s.version, s.database, sqlserver.judge(s), s.tables  # pragma: no cover


def run_audit(target: Target, *, history: History | None, history_where: str = "") -> AuditReport:
    """Audit the database at ``target``; the history adds its last restore test."""
    started = dt.datetime.now(dt.UTC)
    t0 = time.monotonic()
    conn = connect(target)
    try:
        try:
            engine, version, database, findings, tables = collect_and_judge(target, conn)
        except driver_errors(target) as exc:
            secrets = [target.password] if target.password else []
            raise InfrastructureError(
                f"{target.shown}: the audit's queries failed: {redact(str(exc), secrets)}"
            ) from None
    finally:
        conn.close()
    proofs = restore_proofs(history, database=database, family=target.family) if history else []
    where = history.where if history else f"{history_where or '-'}, not created yet"
    findings.append(judge_proofs(proofs, database=database, where=where, now=started))
    return AuditReport(
        target=target.shown,
        engine=engine,
        server_version=version,
        database=database,
        started_at=started.isoformat(timespec="seconds"),
        duration_s=round(time.monotonic() - t0, 3),
        findings=sorted_findings(findings),
        tables=tuple(tables),
    )
