"""Shell helpers of the MariaDB adapter: its packaged scripts and quoted environments."""

from __future__ import annotations

import shlex
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def script(name: str) -> str:
    """A shell script shipped with the adapter (harness/engines/scripts)."""
    return (SCRIPTS / name).read_text()


def exports(**variables: str) -> str:
    """``export A=...; export B=...`` with every value shell-quoted."""
    return "; ".join(f"export {k}={shlex.quote(v)}" for k, v in variables.items())


def sql_literal(value: str) -> str:
    """A MariaDB / MySQL string literal (default sql_mode: backslash escapes honoured)."""
    escaped = value.replace("\\", "\\\\").replace("'", "''").replace("\0", "\\0")
    return f"'{escaped}'"


def env_ref(name: str) -> str:
    """A double-quoted reference to a variable of the container's own environment, so that
    a secret it holds (the image's *_PASSWORD) is expanded in the container, not in argv."""
    return f'"${{{name}}}"'


def wait_for(condition: str, *, timeout_s: float, interval_s: float) -> str:
    """Shell that polls ``condition`` (a shell command) until it succeeds; ``timeout`` ends it
    after ``timeout_s`` with a non-zero status, so the wait cannot outlive its deadline."""
    loop = f"until {condition}; do sleep {interval_s:g}; done"
    return f"timeout {timeout_s:g} bash -c {shlex.quote(loop)}"
