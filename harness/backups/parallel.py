"""Parallel logical backups and restores, where the engine's tools offer them.

A logical backup with ``parallel: N`` runs the engine's parallel path: on PostgreSQL pg_dump's
directory format with N jobs, stored as one tar file, and pg_restore with N jobs; on MariaDB
the same consistent single-transaction dump (mariadb-dump cannot dump one snapshot in
parallel), restored N tables at a time. ``parallel: 1`` (the default) is the single stream.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from harness.engines.base import DumpJob, Engine


@runtime_checkable
class ParallelLogical(Protocol):
    """An engine whose logical backups and restores can run with several jobs."""

    def parallel_dump_command(self, job: DumpJob, *, jobs: int) -> str: ...

    def parallel_restore_command(self, *, path: str, target_host: str, jobs: int) -> str: ...


def offers_parallel(engine: Any) -> bool:
    """Whether the engine has a parallel logical backup and restore path."""
    return isinstance(engine, ParallelLogical)


def dump_command(engine: Engine, job: DumpJob, *, jobs: int) -> str:
    """The backup's command: the single stream for one job, else the engine's parallel path."""
    if jobs <= 1:
        return engine.dump_command(job)
    return _parallel(engine).parallel_dump_command(job, jobs=jobs)


def restore_command(engine: Engine, *, path: str, target_host: str, jobs: int) -> str:
    """The restore's command for a backup taken with ``jobs`` jobs."""
    if jobs <= 1:
        return engine.restore_command(path=path, target_host=target_host)
    return _parallel(engine).parallel_restore_command(path=path, target_host=target_host, jobs=jobs)


def _parallel(engine: Engine) -> ParallelLogical:
    if not isinstance(engine, ParallelLogical):
        raise ValueError(f"{engine.name} has no parallel logical backup path")
    return engine
