"""Cross-reference checks on a validated scenario: names that must point at something."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence

from harness.scenario.model import (
    BackupSetExpired,
    BackupStoreFull,
    BadMigration,
    CorruptBackup,
    Decommission,
    EngineSql,
    Expect,
    MigrationCutover,
    PitrStep,
    PitrTarget,
    PromoteStep,
    RecoveryStep,
    ReplayDelayedStep,
    RestoreBackupStep,
    RetentionDeleted,
    RmRfDatadir,
    Scenario,
    SilentEmptyBackup,
    SilentEmptyUpload,
    SqlStep,
    SwitchStep,
    UploadCredentialsExpired,
    WalGap,
    engine_base,
)

Loc = tuple[str | int, ...]


def one_of(value: str, known: Sequence[str], what: str) -> str:
    listing = ", ".join(known) if known else "none defined"
    return f"unknown {what} {value!r} (known: {listing})"


def _duplicates(names: list[str], key: str, what: str) -> Iterator[tuple[Loc, str]]:
    for name, count in Counter(names).items():
        if count > 1:
            yield (key, names.index(name), "name"), f"duplicate {what} name {name!r}"


def check_references(s: Scenario) -> Iterator[tuple[Loc, str]]:
    """Yield (location, message) for every dangling or duplicated name in ``s``.

    Checks that need to know the engines or the faults (harness.validation) come on top.
    """
    for engine in s.images:
        if engine not in s.engines:
            yield ("images", engine), f"image given for engine {engine!r}, which is not in engines"

    stores = [st.name for st in s.stores]
    backups = [b.name for b in s.backups]
    nodes = s.nodes()
    yield from _duplicates(stores, "stores", "store")
    yield from _duplicates(backups, "backups", "backup")
    replica_names = [r.name for r in s.topology.replicas]
    for name, count in Counter(replica_names).items():
        if count > 1:
            where = ("topology", "replicas", replica_names.index(name), "name")
            yield where, f"duplicate replica name {name!r}"
    if "primary" in [r.name for r in s.topology.replicas]:
        yield ("topology", "replicas"), "a replica cannot be called 'primary'"
    yield from _stores(s, stores)
    yield from _s3_and_commands(s)

    for i, backup in enumerate(s.backups):
        if backup.store not in stores:
            yield ("backups", i, "store"), one_of(backup.store, stores, "store")
        elif backup.method == "pgbackrest" and (
            s.topology.archive_tool != "pgbackrest" or backup.store != s.topology.wal_archive
        ):
            yield (
                ("backups", i, "store"),
                "a pgbackrest backup goes into pgBackRest's repository: the store named by "
                "topology.wal_archive, with topology.archive_tool: pgbackrest",
            )
        if backup.type != "full" and backup.method != "pgbackrest":
            yield ("backups", i, "type"), "only pgbackrest backups are diff or incr"

    yield from _faults(s, backups, stores, nodes)

    incident = s.incident
    if incident is None and s.migration is None:
        # (A migration is the incident of a migration drill.)
        yield ("timeline",), "a drill needs one fault injected into a server"
    elif incident is not None:
        for i, backup in enumerate(s.backups):
            if backup.at_s >= incident.at_s:
                yield (
                    ("backups", i, "at_s"),
                    f"backup at {backup.at_s:g} s is not before the incident "
                    f"at {incident.at_s:g} s",
                )

    procedures: list[tuple[Loc, list[RecoveryStep], Expect]] = []
    if s.strategies:
        yield from _duplicates([x.name for x in s.strategies], "strategies", "strategy")
        if s.recovery.steps:
            yield ("recovery", "steps"), "give either recovery.steps or strategies, not both"
        procedures = [(("strategies", i), x.steps, x.expect) for i, x in enumerate(s.strategies)]
    else:
        procedures = [(("recovery",), s.recovery.steps, s.expect)]
    for loc, steps, expect in procedures:
        yield from _steps(s, loc, steps, backups)
        yield from _expect(
            (*loc, "expect") if loc[0] == "strategies" else ("expect",), expect, backups
        )


def _stores(s: Scenario, stores: list[str]) -> Iterator[tuple[Loc, str]]:
    for i, store in enumerate(s.stores):
        if store.kind == "tmpfs" and store.reachable_from_db:
            yield (
                ("stores", i, "reachable_from_db"),
                "a tmpfs store cannot be mounted on the primary",
            )
        if store.kind == "tmpfs" and store.size_mb is None:
            yield ("stores", i, "size_mb"), "a tmpfs store needs size_mb"
        if store.kind == "volume" and store.size_mb is not None:
            yield ("stores", i, "size_mb"), "size_mb applies to tmpfs stores only"
    archive = s.topology.wal_archive
    if archive is not None:
        if archive not in stores:
            yield ("topology", "wal_archive"), one_of(archive, stores, "store")
        elif next(st for st in s.stores if st.name == archive).kind == "tmpfs":
            yield (
                ("topology", "wal_archive"),
                "the WAL archive must be a volume store (it is mounted on the primary)",
            )
        else:
            yield from _s3_repository(s, archive)


def _s3_repository(s: Scenario, archive: str) -> Iterator[tuple[Loc, str]]:
    """A WAL archive on an S3 store is pgBackRest's repository (archive-push speaks S3; the
    engine's own archive is a folder mounted on the primary), over TLS, never Object Lock."""
    i, store = next((i, st) for i, st in enumerate(s.stores) if st.name == archive)
    if store.kind != "s3":
        return
    if s.topology.archive_tool != "pgbackrest":
        yield (
            ("topology", "wal_archive"),
            "a WAL archive on an s3 store needs topology.archive_tool: pgbackrest (the "
            "native archive is a volume store mounted on the primary)",
        )
        return
    if store.endpoint_url is not None and not store.endpoint_url.startswith("https://"):
        yield (
            ("stores", i, "endpoint_url"),
            "pgBackRest talks to S3 over TLS only: a repository's endpoint_url must be https://",
        )
    if store.immutable:
        yield (
            ("stores", i, "immutable"),
            "a pgBackRest repository on an Object Lock store is not drilled here (pgbackrest "
            "expire deletes objects, which compliance-mode Object Lock refuses)",
        )


def _uploads(s: Scenario, backup: str) -> bool:
    """Whether backup job ``backup`` is a logical dump uploaded to an S3 store."""
    job = s.backup(backup)
    store = next((st for st in s.stores if st.name == job.store), None)
    return job.method == "logical" and store is not None and store.kind == "s3"


def _expirable(s: Scenario, backup: str, where: Loc) -> Iterator[tuple[Loc, str]]:
    """upload_credentials_expired deletes the job's key through the lab server's IAM."""
    if not _uploads(s, backup):
        yield where, "upload_credentials_expired needs a logical backup on an s3 store"
        return
    store = next(st for st in s.stores if st.name == s.backup(backup).store)
    if store.endpoint_url is not None:
        yield (
            where,
            (
                f"upload_credentials_expired needs store {store.name!r} on the lab's own S3 server "
                "(no endpoint_url): the drill deletes the job's access key through its IAM"
            ),
        )


S3_ONLY = ("endpoint_url", "bucket", "prefix", "access_key_env", "secret_key_env", "immutable")
COMMAND_ONLY = ("backup_command", "restore_command", "image")


def _s3_and_commands(s: Scenario) -> Iterator[tuple[Loc, str]]:
    for i, store in enumerate(s.stores):
        if store.kind != "s3":
            for key in S3_ONLY:
                if key in store.model_fields_set:
                    yield ("stores", i, key), f"{key} applies to s3 stores only"
    kinds = {st.name: st.kind for st in s.stores}
    for i, backup in enumerate(s.backups):
        if backup.method == "command":
            for key in ("backup_command", "restore_command"):
                if getattr(backup, key) is None:
                    yield ("backups", i), f"method command needs {key}"
            if kinds.get(backup.store) == "tmpfs" and backup.image:
                yield (
                    ("backups", i, "image"),
                    "a command in its own image needs a volume or s3 store",
                )
        else:
            for key in COMMAND_ONLY:
                if key in backup.model_fields_set:
                    yield ("backups", i, key), f"{key} applies to method command only"
            if backup.method == "physical" and kinds.get(backup.store) == "s3":
                yield (
                    ("backups", i, "store"),
                    ("physical backups go to volume stores (to S3: method command, or pgBackRest)"),
                )


def _faults(
    s: Scenario, backups: list[str], stores: list[str], nodes: list[str]
) -> Iterator[tuple[Loc, str]]:
    faulted_backups: Counter[str] = Counter()
    for i, fault in enumerate(s.timeline):
        if isinstance(fault, BadMigration):
            yield from _engine_sql(s, ("timeline", i, "sql"), fault.sql)
        if isinstance(fault, SilentEmptyBackup | SilentEmptyUpload | UploadCredentialsExpired):
            if not fault.targets:
                yield ("timeline", i), f"{fault.fault} needs backup or backups"
            named: list[tuple[Loc, str]] = (
                [(("timeline", i, "backup"), fault.backup)] if (fault.backup) else []
            )
            named += [(("timeline", i, "backups", j), n) for j, n in enumerate(fault.backups)]
            for where, name in named:
                faulted_backups[name] += 1
                if name not in backups:
                    yield where, one_of(name, backups, "backup")
                elif faulted_backups[name] > 1:
                    yield where, f"backup {name!r} is already faulted"
                elif isinstance(fault, SilentEmptyUpload) and not _uploads(s, name):
                    yield where, "silent_empty_upload needs a logical backup on an s3 store"
                elif isinstance(fault, UploadCredentialsExpired):
                    yield from _expirable(s, name, where)
            continue
        if isinstance(fault, RetentionDeleted):
            if fault.store not in stores:
                yield ("timeline", i, "store"), one_of(fault.store, stores, "store")
            continue
        if isinstance(fault, CorruptBackup | BackupSetExpired):
            if fault.backup not in backups:
                yield ("timeline", i, "backup"), one_of(fault.backup, backups, "backup")
            elif s.backup(fault.backup).at_s >= fault.at_s:
                yield (
                    ("timeline", i, "at_s"),
                    f"backup {fault.backup!r} does not exist yet at {fault.at_s:g} s",
                )
            elif isinstance(fault, BackupSetExpired) and s.backup(fault.backup).method != (
                "pgbackrest"
            ):
                yield ("timeline", i, "backup"), "backup_set_expired needs a pgbackrest backup"
            continue
        if isinstance(fault, BackupStoreFull):
            if fault.store not in stores:
                yield ("timeline", i, "store"), one_of(fault.store, stores, "store")
            elif next(st for st in s.stores if st.name == fault.store).kind != "tmpfs":
                yield ("timeline", i, "store"), "backup_store_full needs a tmpfs store with size_mb"
            continue
        if fault.target not in nodes:
            yield ("timeline", i, "target"), one_of(fault.target, nodes, "node")
        if (
            isinstance(fault, RmRfDatadir)
            and fault.path is not None
            and not fault.path.startswith("/")
        ):
            yield ("timeline", i, "path"), "path must be absolute"
        if isinstance(fault, WalGap) and s.topology.wal_archive is None:
            yield ("timeline", i), "wal_gap needs topology.wal_archive"
        if fault.fault in ("replication_break", "migration_cutover") and fault.target == "primary":
            yield ("timeline", i, "target"), f"{fault.fault} targets a replica"
        gate = fault.gate if isinstance(fault, Decommission | MigrationCutover) else None
        if gate is not None and gate.compare_with not in nodes:
            yield (
                ("timeline", i, "gate", "compare_with"),
                one_of(gate.compare_with, nodes, "node"),
            )


def _target(loc: Loc, target: PitrTarget) -> Iterator[tuple[Loc, str]]:
    keys = ("before_fault", "fault_position", "time", "lsn", "name", "immediate")
    given = [k for k in keys if getattr(target, k)]
    if len(given) != 1:
        yield (*loc, "target"), f"give exactly one of {', '.join(keys)}"


def _steps(
    s: Scenario, loc: Loc, steps: list[RecoveryStep], backups: list[str]
) -> Iterator[tuple[Loc, str]]:
    replicas = {r.name: r for r in s.topology.replicas}
    physical = [b.name for b in s.backups if b.method in ("physical", "pgbackrest")]
    for i, step in enumerate(steps):
        here: Loc = (*loc, "steps", i)
        if isinstance(step, RestoreBackupStep):
            if not backups:
                yield here, "restore_backup needs at least one backup"
            elif step.backup != "latest_verified" and step.backup not in backups:
                yield (
                    (*here, "backup"),
                    one_of(step.backup, ["latest_verified", *backups], "backup"),
                )
        elif isinstance(step, PitrStep):
            if not physical:
                yield here, "pitr needs at least one physical backup"
            elif step.backup != "latest_verified" and step.backup not in physical:
                yield (
                    (*here, "backup"),
                    one_of(step.backup, ["latest_verified", *physical], "physical backup"),
                )
            if s.topology.wal_archive is None:
                yield here, "pitr needs topology.wal_archive"
            yield from _target(here, step.target)
            if step.delta and not any(b.method == "pgbackrest" for b in s.backups):
                yield (*here, "delta"), "delta restores are pgBackRest's: no pgbackrest backup"
        elif isinstance(step, SqlStep):
            yield from _engine_sql(s, (*here, "statements"), step.statements)
        elif isinstance(step, SwitchStep) and step.server not in s.nodes():
            yield (*here, "server"), one_of(step.server, s.nodes(), "node")
        elif isinstance(step, PromoteStep | ReplayDelayedStep):
            if step.replica not in replicas:
                yield (*here, "replica"), one_of(step.replica, list(replicas), "replica")
            elif isinstance(step, ReplayDelayedStep):
                if replicas[step.replica].apply_delay_s <= 0:
                    yield (*here, "replica"), f"replica {step.replica!r} has no apply_delay_s"
                if step.target.fault_position:
                    yield (
                        (*here, "target", "fault_position"),
                        "replay_delayed stops at a time (a replica's log positions are its own)",
                    )
                yield from _target(here, step.target)


def _engine_sql(s: Scenario, loc: Loc, sql: EngineSql) -> Iterator[tuple[Loc, str]]:
    """SQL given per engine must be given for every engine of the scenario, and no other."""
    if not isinstance(sql, dict):
        return
    for engine in s.engines:
        if engine not in sql and engine_base(engine) not in sql:
            yield loc, f"no statements for engine {engine!r} (given for {', '.join(sql)})"
    for engine in sql:
        if engine not in s.engines and engine not in {engine_base(e) for e in s.engines}:
            yield (*loc, engine), f"engine {engine!r} is not among the scenario's engines"


def _expect(loc: Loc, expect: Expect, backups: list[str]) -> Iterator[tuple[Loc, str]]:
    if expect.restored_from is not None and expect.restored_from not in backups:
        yield (*loc, "restored_from"), one_of(expect.restored_from, backups, "backup")
    for i, name in enumerate(expect.rejected_backups):
        if name not in backups:
            yield (*loc, "rejected_backups", i), one_of(name, backups, "backup")
