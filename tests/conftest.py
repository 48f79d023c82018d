"""Settings for the whole test session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session", autouse=True)
def private_history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Drills run by tests record into a history of their own, never reports/history.sqlite."""
    path = tmp_path_factory.mktemp("history") / "history.sqlite"
    previous = os.environ.get("RECOVERY_DRILL_HISTORY")
    os.environ["RECOVERY_DRILL_HISTORY"] = str(path)
    yield path
    if previous is None:
        os.environ.pop("RECOVERY_DRILL_HISTORY", None)
    else:
        os.environ["RECOVERY_DRILL_HISTORY"] = previous
