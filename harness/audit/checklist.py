"""Seed 001's migration safety checklist, as a YAML file with evidence per item.

    migration: split-orders-table        # what is about to run (free text)
    items:
      full_backup_completed:
        done: true
        evidence: "pgbackrest backup --type=full, set 20261207-101500F"
        by: alice                         # optional
        at: 2026-12-07T10:20:00+00:00     # optional, ISO 8601
      backup_verified_restorable: {done: true, evidence: "recovery-drill restore-test ..."}
      ...

Every item of ``ITEMS`` must be present, done, and carry evidence; ``required: false`` marks
an item the team decided does not apply (it must still say why, in ``evidence``). Unknown
keys and wrong types are reported as FILE:LINE: path: message, like scenario files.
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from harness.errors import Problem, ScenarioError
from harness.scenario.loader import format_loc, read_yaml

# The mandatory items (seed 001), in order, with what satisfies each.
ITEMS: dict[str, str] = {
    "full_backup_completed": "a full backup of the database finished before the migration",
    "backup_verified_restorable": "that backup was restored and its data verified",
    "recovery_procedure_documented": "the recovery procedure is written down (link it)",
    "recovery_time_tested": "the recovery was timed against the RTO (a drill or restore-test)",
    "rollback_plan_approved": "the rollback plan was approved (by whom, where)",
    "data_integrity_queries_prepared": "queries that prove the data intact before and after",
    "stakeholders_notified": "the people affected know when and what (where it was announced)",
    "maintenance_window_scheduled": "the window is agreed (when)",
}


def _iso(text: str) -> str:
    try:
        dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 time") from None
    return text


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Item(_Model):
    done: bool = Field(strict=True)
    evidence: str = ""
    by: str = ""
    at: Annotated[str, AfterValidator(_iso)] | None = None
    required: bool = Field(default=True, strict=True)


class Checklist(_Model):
    migration: str = ""
    items: dict[str, Item]


@dataclass(frozen=True)
class ItemResult:
    name: str
    passed: bool
    detail: str  # the evidence when passed; what would satisfy it when not


def _message(error: Any, loc: tuple[str | int, ...]) -> str:
    if error["type"] == "extra_forbidden":
        key = str(loc[-1]) if loc else "?"
        close = difflib.get_close_matches(key, ["done", "evidence", "by", "at", "required"], n=1)
        return f"unknown key {key!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
    if error["type"] == "missing":
        return "required key is missing"
    if error["type"] == "value_error":
        return str(error["ctx"]["error"])
    return str(error["msg"])


def load_checklist(path: Path) -> Checklist:
    """Read and validate a checklist file; a ScenarioError lists every problem with its line."""
    data, located = read_yaml(path)
    checklist = None
    if not located.problems:
        try:
            checklist = Checklist.model_validate(data)
        except ValidationError as exc:
            for error in exc.errors():
                line, loc = located.locate(tuple(error["loc"]))
                located.problems.append(
                    Problem(located.file, line, format_loc(loc), _message(error, loc))
                )
    items = data.get("items") if isinstance(data, dict) else None
    for name in items if isinstance(items, dict) else {}:
        if name not in ITEMS:
            line, _ = located.locate(("items", name))
            close = difflib.get_close_matches(str(name), list(ITEMS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            located.problems.append(
                Problem(located.file, line, f"items.{name}", f"unknown item{hint}")
            )
    if located.problems or checklist is None:
        raise ScenarioError(located.problems)
    return checklist


def judge_checklist(checklist: Checklist | None) -> list[ItemResult]:
    """One result per mandatory item: present, done (or not required) and evidenced."""
    out = []
    for name, needs in ITEMS.items():
        item = checklist.items.get(name) if checklist else None
        if item is None:
            out.append(ItemResult(name, False, f"missing: {needs}"))
        elif not item.evidence.strip():
            out.append(ItemResult(name, False, f"no evidence given: {needs}"))
        elif not item.required:
            out.append(ItemResult(name, True, f"not required: {item.evidence.strip()}"))
        elif not item.done:
            out.append(ItemResult(name, False, f"not done: {needs}"))
        else:
            who = f" ({item.by}" + (f", {item.at})" if item.at else ")") if item.by else ""
            out.append(ItemResult(name, True, item.evidence.strip() + who))
    return out
