"""Shell that loads a team's own files into a PostgreSQL server, run in its container with
``tool_env()``: a psql script (meta-commands such as ``\\c`` work as for the team), or a
pg_dump archive (custom format, gzip or not, or a directory) through pg_restore.

Each command prints ``DRILL_DATABASE=<name>`` last: the database the script ended in (or the
archive was restored into), unless the scenario named one.
"""

from __future__ import annotations

import shlex

MARKER = "DRILL_DATABASE="
_CONNECT = "-h 127.0.0.1 -p 5432"
_PSQL = f"psql -X {_CONNECT}"


def script_command(*, path: str, gzipped: bool, database: str, start_database: str) -> str:
    """psql runs the script from stdin, stops at the first error (its own message and line),
    then says which database it ended in. ``database`` (if not empty) is where it starts."""
    read = "gunzip -c" if gzipped else "cat"
    start = database or start_database
    return (
        f"set -o pipefail; {read} {shlex.quote(path)} | {_PSQL} -q "
        f"-v ON_ERROR_STOP=1 -d {shlex.quote(start)} -f - "
        f"-c {shlex.quote(chr(92) + 'echo ' + MARKER + ':DBNAME')}"
    )


def archive_command(
    *, path: str, gzipped: bool, directory: bool, database: str, start_database: str
) -> str:
    """pg_restore into ``database`` (default: the database the archive was dumped from),
    created first when it does not exist."""
    read = "" if directory else ("gunzip -c" if gzipped else "cat")
    src = shlex.quote(path)
    listing = f"pg_restore -l {src}" if directory else f"{read} {src} | pg_restore -l"
    restore = (
        f'pg_restore {_CONNECT} --no-owner --exit-on-error -d "$db" {src}'
        if directory
        else f'{read} {src} | pg_restore {_CONNECT} --no-owner --exit-on-error -d "$db"'
    )
    start = shlex.quote(start_database)
    named = shlex.quote(database)
    return (
        "set -eo pipefail; "
        f"db={named}; "
        f"if [ -z \"$db\" ]; then db=$({listing} | sed -n 's/^;[[:space:]]*dbname: //p' "
        "| head -n 1); fi; "
        '[ -n "$db" ] || { echo "no database name in the archive: name one (database:)" >&2; '
        "exit 1; }; "
        f"exists=$({_PSQL} -d {start} -tAc "
        '"SELECT 1 FROM pg_database WHERE datname = \'$(printf %s "$db" | sed "s/\'/\'\'/g")\'"); '
        f'[ "$exists" = 1 ] || createdb -h 127.0.0.1 -p 5432 "$db"; '
        f"{restore}; "
        f'echo "{MARKER}$db"'
    )
