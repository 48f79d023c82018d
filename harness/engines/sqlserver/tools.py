"""Logical dumps of SQL Server run by the backup agent: a schema script from the catalog plus
one native-format bcp file per table (sqlcmd and bcp from the SQL Server image)."""

from __future__ import annotations

import shlex

from harness.engines.base import Credentials, DumpJob
from harness.engines.sqlserver.container import TOOLS
from harness.engines.sqlserver.tsql import PORT

# CREATE TABLE statements for every user table, from the catalog: column types, identity,
# nullability, defaults and the primary key (what the drill's tables use). One per line.
SCHEMA_SQL = """SET NOCOUNT ON;
SELECT CONCAT('CREATE TABLE ', QUOTENAME(t.name), ' (',
  (SELECT STRING_AGG(CAST(CONCAT(QUOTENAME(c.name), ' ',
     CASE WHEN ty.name IN ('decimal', 'numeric')
            THEN CONCAT(ty.name, '(', c.precision, ',', c.scale, ')')
          WHEN ty.name IN ('varchar', 'char', 'varbinary', 'binary')
            THEN CONCAT(ty.name, '(', IIF(c.max_length = -1, 'max',
                        CAST(c.max_length AS VARCHAR(10))), ')')
          WHEN ty.name IN ('nvarchar', 'nchar')
            THEN CONCAT(ty.name, '(', IIF(c.max_length = -1, 'max',
                        CAST(c.max_length / 2 AS VARCHAR(10))), ')')
          WHEN ty.name IN ('datetime2', 'time', 'datetimeoffset')
            THEN CONCAT(ty.name, '(', c.scale, ')')
          ELSE ty.name END,
     IIF(c.is_identity = 1, CONCAT(' IDENTITY(', CAST(IDENT_SEED(t.name) AS VARCHAR(20)), ',',
                                   CAST(IDENT_INCR(t.name) AS VARCHAR(20)), ')'), ''),
     IIF(c.is_nullable = 1, ' NULL', ' NOT NULL'),
     IIF(dc.definition IS NULL, '', CONCAT(' DEFAULT ', dc.definition))) AS NVARCHAR(MAX)),
     ', ') WITHIN GROUP (ORDER BY c.column_id)
   FROM sys.columns c
   JOIN sys.types ty ON ty.user_type_id = c.user_type_id
   LEFT JOIN sys.default_constraints dc ON dc.object_id = c.default_object_id
   WHERE c.object_id = t.object_id),
  (SELECT CONCAT(', PRIMARY KEY (',
            STRING_AGG(QUOTENAME(c.name), ', ') WITHIN GROUP (ORDER BY ic.key_ordinal), ')')
   FROM sys.indexes i
   JOIN sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id
   JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id
   WHERE i.object_id = t.object_id AND i.is_primary_key = 1),
  ');')
FROM sys.tables t WHERE t.is_ms_shipped = 0 ORDER BY t.name;"""
TABLES_SQL = "SET NOCOUNT ON; SELECT name FROM sys.tables WHERE is_ms_shipped = 0 ORDER BY name"


class DumpTools:
    """sqlcmd and bcp command lines for dumps and restores."""

    credentials: Credentials

    def tool_env(self, *, password: str | None = None) -> dict[str, str]:
        return {"SQLCMDPASSWORD": self.credentials.password if password is None else password}

    def _login(self, host: str) -> str:
        return f"-S {shlex.quote(f'{host},{PORT}')} -U {shlex.quote(self.credentials.user)}"

    def dump_command(self, job: DumpJob) -> str:
        """Schema script plus one native-format bcp file per table, tarred and gzipped.

        The archive is built in a subshell that stops at the first failure; without pipefail
        that failure is hidden behind gzip, exactly as with pg_dump. SQLCMDPASSWORD comes from
        the environment (tool_env(password=job.password)); bcp reads it as ``-P``.
        """
        head = "set -o pipefail; " if job.pipefail else ""
        login, db = self._login(job.source_host), shlex.quote(job.database)
        sqlcmd = f'"$T/sqlcmd" -C -b {login} -d {db} -h -1'
        return (
            f"{head}{TOOLS}; "
            '( set -e; d="$(mktemp -d)"; '
            f'{sqlcmd} -y 0 -Q {shlex.quote(SCHEMA_SQL)} -o "$d/schema.sql"; '
            f'{sqlcmd} -W -Q {shlex.quote(TABLES_SQL)} -o "$d/tables"; '
            'while read -r t; do [ -n "$t" ] || continue; '
            f'"$T/bcp" "[dbo].[$t]" out "$d/$t.bcp" -n -u -d {db} {login} '
            '-P "$SQLCMDPASSWORD" >/dev/null; done < "$d/tables"; '
            'tar -C "$d" -cf - .; rm -rf "$d" ) '
            f"| gzip -1 > {shlex.quote(job.path)}"
        )

    def restore_command(self, *, path: str, target_host: str) -> str:
        login, db = self._login(target_host), shlex.quote(self.credentials.database)
        return (
            f'set -eo pipefail; {TOOLS}; d="$(mktemp -d)"; '
            f'gunzip -c {shlex.quote(path)} | tar -xf - -C "$d"; '
            f'"$T/sqlcmd" -C -b {login} -d {db} -i "$d/schema.sql"; '
            'while read -r t; do [ -n "$t" ] || continue; '
            f'"$T/bcp" "[dbo].[$t]" in "$d/$t.bcp" -n -E -u -b 10000 -d {db} {login} '
            '-P "$SQLCMDPASSWORD" >/dev/null; done < "$d/tables"; rm -rf "$d"'
        )
