"""The drill history: a versioned SQLite or PostgreSQL database of every run, for reports."""

from harness.report.history.db import connect
from harness.report.history.migrations import LATEST, current_version, migrate
from harness.report.history.store import (
    DEFAULT_HISTORY,
    BackupEntry,
    History,
    Procedure,
    Step,
    StoredRun,
)

__all__ = [
    "DEFAULT_HISTORY",
    "LATEST",
    "BackupEntry",
    "History",
    "Procedure",
    "Step",
    "StoredRun",
    "connect",
    "current_version",
    "migrate",
]
