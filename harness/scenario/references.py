"""Cross-reference checks on a validated scenario: names that must point at something."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from harness.engines import engine_names
from harness.scenario.model import (
    RestoreBackupStep,
    RmRfDatadir,
    Scenario,
    SilentEmptyBackup,
)

Loc = tuple[str | int, ...]
NODES = ("primary",)


def _one_of(value: str, known: list[str] | tuple[str, ...], what: str) -> str:
    listing = ", ".join(known) if known else "none defined"
    return f"unknown {what} {value!r} (known: {listing})"


def check_references(s: Scenario) -> Iterator[tuple[Loc, str]]:
    """Yield (location, message) for every dangling or duplicated name in ``s``."""
    engines = engine_names()
    for i, engine in enumerate(s.engines):
        if engine not in engines:
            yield ("engines", i), _one_of(engine, engines, "engine")
    for engine in s.images:
        if engine not in s.engines:
            yield ("images", engine), f"image given for engine {engine!r}, which is not in engines"

    stores = [st.name for st in s.stores]
    backups = [b.name for b in s.backups]
    for what, names, key in (("store", stores, "stores"), ("backup", backups, "backups")):
        for name, count in Counter(names).items():
            if count > 1:
                yield (key, names.index(name), "name"), f"duplicate {what} name {name!r}"
    for i, backup in enumerate(s.backups):
        if backup.store not in stores:
            yield ("backups", i, "store"), _one_of(backup.store, stores, "store")

    faulted_backups: Counter[str] = Counter()
    for i, fault in enumerate(s.timeline):
        if isinstance(fault, SilentEmptyBackup):
            faulted_backups[fault.backup] += 1
            if fault.backup not in backups:
                yield ("timeline", i, "backup"), _one_of(fault.backup, backups, "backup")
            elif faulted_backups[fault.backup] > 1:
                yield ("timeline", i, "backup"), f"backup {fault.backup!r} is already faulted"
        else:
            if fault.target not in NODES:
                yield ("timeline", i, "target"), _one_of(fault.target, NODES, "node")
            if (
                isinstance(fault, RmRfDatadir)
                and fault.path is not None
                and not fault.path.startswith("/")
            ):
                yield ("timeline", i, "path"), "path must be absolute"

    server_faults = s.server_faults
    if not server_faults:
        yield ("timeline",), "a drill needs one fault injected into a server"
    if any(f.causes_outage for f in server_faults) and not s.recovery.steps:
        yield ("recovery", "steps"), "a fault causes an outage but no recovery steps are given"
    if len(server_faults) > 1:
        second = s.timeline.index(server_faults[1])
        yield ("timeline", second), "only one server fault per drill is supported"
    for i, step in enumerate(s.recovery.steps):
        if isinstance(step, RestoreBackupStep):
            if not backups:
                yield ("recovery", "steps", i), "restore_backup needs at least one backup"
            elif step.backup != "latest_verified" and step.backup not in backups:
                yield (
                    ("recovery", "steps", i, "backup"),
                    _one_of(step.backup, ["latest_verified", *backups], "backup"),
                )
    if server_faults:
        fault_at = server_faults[0].at_s
        for i, backup in enumerate(s.backups):
            if backup.at_s >= fault_at:
                yield (
                    ("backups", i, "at_s"),
                    (f"backup at {backup.at_s:g} s is not before the fault at {fault_at:g} s"),
                )

    if s.expect.restored_from is not None and s.expect.restored_from not in backups:
        yield ("expect", "restored_from"), _one_of(s.expect.restored_from, backups, "backup")
    for i, name in enumerate(s.expect.rejected_backups):
        if name not in backups:
            yield ("expect", "rejected_backups", i), _one_of(name, backups, "backup")
