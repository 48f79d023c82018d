"""Seed 001's 60-second audit of a live database, read-only, and the migration safety gate.

    target.py     the database URL: engine family, address (loopback unless allowed), redaction
    model.py      findings (severity, check, what was seen, what would fix it) and the report
    postgres.py   what PostgreSQL shows a read-only account: facts, then findings from them
    mariadb.py    the same for MariaDB and MySQL
    sqlserver.py  the same for SQL Server (written; not verifiable on the build machines)
    proof.py      the restore tests the drill history holds for a database
    audit.py      connect, collect, judge: one audit
    checklist.py  seed 001's migration safety checklist, read from YAML with evidence per item
    gate.py       the gate: a restore-tested backup young enough, PITR, and the checklist
    render.py     the terminal table, JSON, Markdown and JUnit XML of an audit or a gate

Collecting (SQL against a real server) and judging (pure functions of the collected facts)
are apart, so every rule is unit-tested and every query runs against real servers in the
integration tests.
"""
