"""The exception tree of recovery-drill; exit codes are decided from it in one place (cli.py).

    HarnessError                      every error the harness raises on purpose
    ├── InputError                    exit 2: bad scenario, bad option, bad reference
    │   └── ScenarioError             one or more FILE:LINE: path: message problems
    ├── SafetyError                   exit 3: refused to touch something this run did not create
    └── InfrastructureError           exit 3: Docker, images, containers, commands
        ├── EngineUnavailable         no Docker engine reachable / image missing
        ├── CommandTimeout            a command or a wait ran past its deadline, with evidence
        └── ServerExited              a server's container stopped while it was awaited
            └── ContainerGone         the container no longer exists at all

Foreign exceptions (docker SDK, database drivers, subprocess) are translated at the boundary
where they happen, with ``raise ... from exc``: every Docker API failure leaves the lab as an
InfrastructureError. ``first_line`` is the one way to quote an error in a record.
"""

from __future__ import annotations

from dataclasses import dataclass


class HarnessError(Exception):
    """Root of every error recovery-drill raises on purpose."""


class InputError(HarnessError):
    """Invalid input or usage (exit code 2)."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file, located as precisely as the YAML allows."""

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.file}:{self.line}: {where}{self.message}"


class ScenarioError(InputError):
    """A scenario or drill plan failed validation; carries every problem found at once."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line, p.path))
        super().__init__("\n".join(str(p) for p in self.problems))


class SafetyError(HarnessError):
    """Refused a destructive action on a resource the current run did not create."""


class InfrastructureError(HarnessError):
    """Docker, an image, a container or a command failed (exit code 3)."""


class EngineUnavailable(InfrastructureError):
    """No Docker engine reachable, or a required image is not available locally."""


class ServerExited(InfrastructureError):
    """A server's container exited while the harness waited for it (e.g. a failed recovery)."""


class ContainerGone(ServerExited):
    """The container was removed (the engine no longer knows it)."""


class CommandTimeout(InfrastructureError):
    """A command or a wait ran past its deadline; the message carries the evidence."""

    def __init__(
        self, what: str, *, timeout_s: float, last_output: str = "", hint: str = ""
    ) -> None:
        parts = [f"timed out after {timeout_s:.1f} s waiting for {what}"]
        if last_output:
            parts.append(f"last output: {last_output.strip()[-500:]}")
        if hint:
            parts.append(f"hint: {hint}")
        super().__init__("; ".join(parts))
        self.what = what
        self.timeout_s = timeout_s
        self.last_output = last_output


def first_line(exc_or_text: BaseException | str, *, limit: int | None = None) -> str:
    """The first line of an error (or a text), cut to ``limit`` characters.

    An error with an empty message is named by its type; an empty text gives "".
    """
    text = str(exc_or_text).strip()
    if text:
        line = text.splitlines()[0]
    elif isinstance(exc_or_text, BaseException):
        line = type(exc_or_text).__name__
    else:
        line = ""
    return line if limit is None else line[:limit]
