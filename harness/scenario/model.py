"""The typed scenario model: what a scenario file may say, and nothing else.

Every model forbids unknown keys and is frozen. Cross-references (a backup naming a store, a
fault naming a backup, an engine name) are checked in ``references.py`` so that all problems
are reported together with their line numbers.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from harness.dataset import DatasetSpec

# Upper bounds of every number a scenario may give (docs: README "Scenario limits"). Numbers are
# strict (a YAML ``true`` is not 1) and finite (no .nan, no .inf).
MAX_DRILL_S = 3600.0  # a moment or duration inside one drill: drills last minutes
MAX_OBJECTIVE_S = 7 * 86400.0  # an RTO or RPO objective: a week covers weekly backups
MAX_ROWS = 50_000_000  # rows per seeded table (a 10 GB drill is about 25 M rows)
MAX_COUNT = 10_000_000  # counts of writes (deleted, allowed to be lost)
MAX_SEED = 2**63 - 1
MAX_PARALLEL = 64  # parallel jobs of a logical backup or restore
MAX_WRITE_RATE = 50_000.0  # writes per second, all of the writer's clients together
MAX_CLIENTS = 64  # the writer's concurrent connections
MAX_CHECK_VALUE = 1e18  # a bound or value a team's check expects

Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")]


def _float(**bounds: float) -> object:
    return Field(strict=True, allow_inf_nan=False, **bounds)  # type: ignore[call-overload]


def _int(**bounds: int) -> object:
    return Field(strict=True, **bounds)  # type: ignore[call-overload]


Seconds = Annotated[float, _float(ge=0, le=MAX_DRILL_S)]
PositiveSeconds = Annotated[float, _float(gt=0, le=MAX_DRILL_S)]
ObjectiveSeconds = Annotated[float, _float(ge=0, le=MAX_OBJECTIVE_S)]
PositiveObjectiveSeconds = Annotated[float, _float(gt=0, le=MAX_OBJECTIVE_S)]
WriteCount = Annotated[int, _int(ge=0, le=MAX_COUNT)]


def _unique(names: list[str]) -> list[str]:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"{name!r} is listed twice")
        seen.add(name)
    return names


UniqueNames = Annotated[list[Name], AfterValidator(_unique)]

# An engine, optionally with a major version: ``postgres``, ``postgres@17``, ``mariadb@11.8``
# (harness.engines.versions lists the versions; the bare name is the engine's default image).
EngineRef = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}(@[0-9][0-9.]{0,15})?$")]
EngineRefs = Annotated[list[EngineRef], AfterValidator(_unique)]


def engine_base(ref: str) -> str:
    """The engine name of ``ref`` without its version (``postgres@17`` -> ``postgres``)."""
    return ref.partition("@")[0]


def supports_engine(engines: list[str], ref: str) -> bool:
    """A scenario listing ``postgres`` runs on every version of it; ``postgres@17`` on that one."""
    return ref in engines or engine_base(ref) in engines


def _iso_time(text: str) -> str:
    try:
        dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not an ISO 8601 time (e.g. 2026-12-01T10:00:00+00:00)"
        ) from None
    return text


class Model(BaseModel):
    """Base for every scenario model: strict keys, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Dataset(Model):
    """Seeded tables: how many, how many rows each, and the random seed."""

    tables: Annotated[int, _int(ge=1, le=50)] = 3
    rows_per_table: Annotated[int, _int(ge=1, le=MAX_ROWS)] = 10_000
    seed: Annotated[int, _int(ge=0, le=MAX_SEED)] = 0
    # A team's own database instead of seeded tables (README "Drill your own database"): a
    # SQL script, a mysqldump/mariadb-dump file or a pg_dump archive, gzip or not, relative to
    # the scenario file; the drill's database is ``database`` or the one the script ends in.
    file: Annotated[str, Field(min_length=1, max_length=4096)] | None = None
    database: Annotated[str, Field(min_length=1, max_length=64)] | None = None

    def spec(self) -> DatasetSpec:
        """The engine-neutral spec an engine seeds from."""
        return DatasetSpec(tables=self.tables, rows_per_table=self.rows_per_table, seed=self.seed)


class DataCheck(Model):
    """A team's own check: an SQL query run on the source before the incident and on the
    recovered database. ``expect: same`` (the default) wants the same result on both;
    ``equals`` an exact first value; ``min`` / ``max`` bounds on a numeric first value."""

    name: Name
    sql: Annotated[str, Field(min_length=1, max_length=20_000)]
    expect: Literal["same"] | None = None
    equals: (
        Annotated[str, Field(max_length=2000)]
        | Annotated[int, _int(ge=-(2**63), le=2**63 - 1)]
        | Annotated[float, _float(ge=-MAX_CHECK_VALUE, le=MAX_CHECK_VALUE)]
        | None
    ) = None
    min: Annotated[float, _float(ge=-MAX_CHECK_VALUE, le=MAX_CHECK_VALUE)] | None = None
    max: Annotated[float, _float(ge=-MAX_CHECK_VALUE, le=MAX_CHECK_VALUE)] | None = None

    @property
    def expectation(self) -> str:
        """The expectation in words ("same", "= 0", ">= 1, <= 10")."""
        if self.equals is not None:
            return f"= {self.equals}"
        bounds = [f">= {self.min:g}"] if self.min is not None else []
        bounds += [f"<= {self.max:g}"] if self.max is not None else []
        return ", ".join(bounds) or "same"


# A table or column of the team's database: ``name`` or ``schema.name`` (PostgreSQL).
_IDENT = r"[A-Za-z_][A-Za-z0-9_]{0,62}"
SqlName = Annotated[str, Field(pattern=rf"^{_IDENT}(\.{_IDENT})?$")]
ColumnName = Annotated[str, Field(pattern=rf"^{_IDENT}$")]


class Transaction(Model):
    """The writer's own transaction in the team's tables (README "Drill your own database"):
    ``sql`` runs in one transaction per write with the sequence number bound to ``:seq`` (and
    the client's time to ``:ts``); the sequence number lands in ``table.seq_column``, which is
    where lost writes are read back. ``setup`` runs once on the loaded database before the
    source truth (e.g. adding the column); ``also_writes`` names the other tables the
    transaction writes, each with the SQL condition that selects the writer's rows."""

    table: SqlName
    seq_column: ColumnName
    sql: EngineSql
    setup: EngineSql | None = None
    also_writes: dict[SqlName, Annotated[str, Field(min_length=1, max_length=2000)]] = Field(
        default_factory=dict
    )


class Workload(Model):
    """The writer that keeps writing during the drill."""

    rate_per_s: Annotated[float, _float(gt=0, le=MAX_WRITE_RATE)] = 50.0
    after_recovery_s: Seconds = 1.0
    clients: Annotated[int, _int(ge=1, le=MAX_CLIENTS)] = Field(
        default=1, description="concurrent connections sharing the rate, one write each at a time"
    )
    transaction: Transaction | None = Field(
        default=None, description="write business rows into the team's own tables"
    )


class Store(Model):
    """A backup store outside the database container (its own volume, mounted in an agent).

    ``tmpfs`` stores have a fixed size (``size_mb``), so that they can really fill up.
    """

    name: Name
    kind: Literal["volume", "tmpfs", "s3"] = "volume"
    size_mb: Annotated[int, _int(ge=1, le=65536)] | None = None
    reachable_from_db: bool = Field(
        default=False,
        description="also mounted on the primary, like a NAS share (not offsite); for an s3 "
        "store: its credentials are reachable from the database host",
    )
    # kind: s3 (issue 13). Without endpoint_url the drill runs its own S3 server in the lab.
    endpoint_url: Annotated[str, Field(pattern=r"^https?://[^\s@]+$")] | None = None
    bucket: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")] | None = None
    prefix: Annotated[str, Field(pattern=r"^[A-Za-z0-9!_.*'()/-]{0,200}$")] = ""
    region: Annotated[str, Field(pattern=r"^[a-z0-9-]{1,32}$")] = "us-east-1"
    # The NAMES of environment variables holding the credentials, never the credentials.
    access_key_env: Annotated[str, Field(pattern=r"^[A-Z_][A-Z0-9_]{0,63}$")] | None = None
    secret_key_env: Annotated[str, Field(pattern=r"^[A-Z_][A-Z0-9_]{0,63}$")] | None = None
    immutable: bool = Field(default=False, description="S3 Object Lock, compliance mode")
    retention_days: Annotated[int, _int(ge=1, le=36500)] = 1


class Replica(Model):
    """A streaming replica of the primary, optionally applying WAL with a delay."""

    name: Name
    apply_delay_s: Seconds = 0.0
    synchronous: bool = Field(
        default=False,
        description="the primary acknowledges a commit only once this replica has it "
        "(PostgreSQL synchronous_standby_names, MariaDB semi-synchronous replication)",
    )


class Topology(Model):
    """Servers beside the primary, and where WAL is archived (a store mounted on the primary)."""

    wal_archive: Name | None = None
    # Who archives WAL into it: the engine's own command (cp) or pgBackRest's archive-push
    # (the store then holds pgBackRest's repository, which pgbackrest backups need).
    archive_tool: Literal["native", "pgbackrest"] = "native"
    replicas: list[Replica] = Field(default_factory=list)


class Backup(Model):
    """A backup job: method, when (seconds after the workload starts), and where to."""

    name: Name
    method: Literal["logical", "physical", "command", "pgbackrest"] = "logical"
    at_s: Seconds
    store: Name
    min_size_ratio: Annotated[float, _float(gt=0, lt=1)] = 0.01
    parallel: Annotated[int, _int(ge=1, le=MAX_PARALLEL)] = Field(
        default=1,
        description="logical backups: restore (PostgreSQL: also dump) with this many parallel "
        "jobs: pg_dump -Fd -j N + pg_restore -j N; MariaDB: the dump's tables loaded N at a time",
    )
    # method: command (issue 13): the team's own scripts (bash), run in the backup agent, or in
    # ``image`` (a helper on the run's network). Their environment: see README "Command backups".
    backup_command: Annotated[str, Field(min_length=1)] | None = None
    restore_command: Annotated[str, Field(min_length=1)] | None = None
    image: str | None = None
    # pgbackrest only: full, differential (changes since the last full) or incremental.
    type: Literal["full", "diff", "incr"] = "full"


class RmRfDatadir(Model):
    """The data directory wiped under a running server (`rm -rf DATADIR/*`)."""

    fault: Literal["rm_rf_datadir"]
    at_s: Seconds
    target: Name = "primary"
    path: str | None = Field(default=None, description="defaults to the engine's data directory")


class Kill(Model):
    """SIGKILL of the database server process."""

    fault: Literal["kill"]
    at_s: Seconds
    target: Name = "primary"


class Pause(Model):
    """The server frozen (cgroup freezer) for exactly ``duration_s``, then thawed."""

    fault: Literal["pause"]
    at_s: Seconds
    target: Name = "primary"
    duration_s: PositiveSeconds


class DeleteWrites(Model):
    """A logical error: ``count`` acknowledged writer rows deleted (newest, or from the middle)."""

    fault: Literal["delete_writes"]
    at_s: Seconds
    target: Name = "primary"
    count: Annotated[int, _int(ge=1, le=MAX_COUNT)]
    where: Literal["newest", "middle"] = "newest"


class WalGap(Model):
    """A WAL segment removed from (or damaged in) the archive, after the newest physical backup."""

    fault: Literal["wal_gap"]
    at_s: Seconds
    target: Name = "primary"
    mode: Literal["remove", "damage"] = "remove"


class ReplicationBreak(Model):
    """A standby falls behind for good: it is stopped while the primary recycles WAL it needs."""

    fault: Literal["replication_break"]
    at_s: Seconds
    target: Name


Statements = Annotated[list[str], Field(min_length=1)]
# SQL is written in an engine's dialect: one list for every engine, or a list per engine
# (``{postgres: [...], mariadb: [...]}``; validation checks every scenario engine has one).
EngineSql = Statements | dict[EngineRef, Statements]


def sql_for(sql: EngineSql, engine: str) -> list[str]:
    """The statements for ``engine`` (validated scenarios always have them)."""
    if not isinstance(sql, dict):
        return sql
    return sql[engine] if engine in sql else sql[engine_base(engine)]


class BadMigration(Model):
    """A migration run on the primary (and applied at once by streaming replicas)."""

    fault: Literal["bad_migration"]
    at_s: Seconds
    target: Name = "primary"
    sql: EngineSql
    old_reader_table: Name | None = None


class CorruptBackup(Model):
    """Bytes changed inside a stored backup."""

    fault: Literal["corrupt_backup"]
    at_s: Seconds
    backup: Name
    bytes: Annotated[int, _int(ge=1, le=1_000_000)] = 64


class BackupSetExpired(Model):
    """A pgBackRest backup set expired from the repository (``pgbackrest expire --set``: a
    retention job or an operator), with the sets that depend on it."""

    fault: Literal["backup_set_expired"]
    at_s: Seconds
    backup: Name


class BackupStoreFull(Model):
    """A size-limited store filled to the brim, so the next backups fail."""

    fault: Literal["backup_store_full"]
    at_s: Seconds
    store: Name


class MigrationGate(Model):
    """Checks that must pass before a server may be decommissioned after a migration."""

    compare_with: Name
    max_backup_age_s: PositiveSeconds | None = None


MigrationMethod = Literal[
    "pg_upgrade_copy",
    "pg_upgrade_link",
    "dump_restore",
    "logical_replication",
    "inplace_upgrade",
    "replication",
]
# The server a migration moves to is called this in the journal and in a gate's compare_with.
MIGRATION_TARGET = "new-server"


class Migration(Model):
    """A cross-version migration of the primary to a server of another major version.

    Writes stop on the old server at ``at_s`` (the cutover starts; replication methods have
    prepared the copy before) and resume on the new one: that gap is the drill's RTO. The gate,
    when given, is checked before the cutover and again before the old server is decommissioned.
    """

    method: MigrationMethod
    to_version: EngineRef
    at_s: Seconds
    # Logical replication copies rows, not sequence values: the usual cutover copies them.
    sync_sequences: bool = True
    # A copy that silently misses rows of ``tables`` ("corrupted and unable to be transferred").
    lost_fraction: Annotated[float, _float(ge=0, le=1)] = 0.0
    tables: UniqueNames = Field(default_factory=lambda: ["seed_01"])
    # The old server and its data destroyed once the clients moved (after the gate, if any).
    decommission_old: bool = False
    gate: MigrationGate | None = None
    timeout_s: PositiveSeconds = 120.0
    # Schema objects the copy leaves out (a dump without --routines/--triggers/--events, a
    # schema created without them): the fidelity check at the cutover must name each one.
    skip: list[Literal["triggers", "routines", "events"]] = Field(default_factory=list)


class Decommission(Model):
    """A server and its volumes destroyed (an outage when it is the primary)."""

    fault: Literal["decommission"]
    at_s: Seconds
    target: Name = "primary"
    gate: MigrationGate | None = None


class MigrationCutover(Model):
    """A migration's cutover: the copy (a replica) is promoted, but part of it never arrived."""

    fault: Literal["migration_cutover"]
    at_s: Seconds
    target: Name
    lost_fraction: Annotated[float, _float(ge=0, le=1)] = 0.1
    tables: UniqueNames = Field(default_factory=lambda: ["seed_01"])
    gate: MigrationGate | None = None


class Ransomware(Model):
    """Data files and every backup reachable from the database host encrypted."""

    fault: Literal["ransomware"]
    at_s: Seconds
    target: Name = "primary"


class SilentEmptyUpload(Model):
    """The upload step ships a zero-byte or truncated object and the job still exits 0."""

    fault: Literal["silent_empty_upload"]
    backup: Name | None = None
    backups: UniqueNames = Field(default_factory=list, description="several runs of the broken job")
    truncate_to_bytes: Annotated[int, _int(ge=0, le=1_000_000_000)] = 0

    @property
    def targets(self) -> list[str]:
        """Every backup this broken job produces."""
        return ([self.backup] if self.backup else []) + self.backups


class UploadCredentialsExpired(Model):
    """The upload job's access key expires before the named backups (deleted through the lab
    S3 server's IAM); its wrapper swallows the failed upload and exits 0: no object arrives."""

    fault: Literal["upload_credentials_expired"]
    backup: Name | None = None
    backups: UniqueNames = Field(default_factory=list, description="several runs of the broken job")

    @property
    def targets(self) -> list[str]:
        """Every backup this broken job produces."""
        return ([self.backup] if self.backup else []) + self.backups


class RetentionDeleted(Model):
    """A lifecycle or retention job deletes a store's objects older than ``older_than_s``."""

    fault: Literal["retention_deleted"]
    at_s: Seconds
    store: Name
    older_than_s: Seconds


class SilentEmptyBackup(Model):
    """The dump fails inside a pipeline that still exits 0, leaving a file of a few bytes."""

    fault: Literal["silent_empty_backup"]
    backup: Name | None = None
    backups: UniqueNames = Field(default_factory=list, description="several runs of the broken job")
    cause: Literal["stale_credentials", "missing_database"] = "stale_credentials"

    @property
    def targets(self) -> list[str]:
        """Every backup this broken job produces."""
        return ([self.backup] if self.backup else []) + self.backups


ServerFault = (
    RmRfDatadir
    | Kill
    | Pause
    | DeleteWrites
    | WalGap
    | ReplicationBreak
    | BadMigration
    | CorruptBackup
    | BackupSetExpired
    | BackupStoreFull
    | Decommission
    | MigrationCutover
    | Ransomware
    | RetentionDeleted
)
BackupJobFault = SilentEmptyBackup | SilentEmptyUpload | UploadCredentialsExpired
Fault = Annotated[ServerFault | BackupJobFault, Field(discriminator="fault")]


class RestartStep(Model):
    """Start the same server again on its existing data directory (crash recovery)."""

    step: Literal["restart"]
    timeout_s: PositiveSeconds = 60.0


class WaitStep(Model):
    """Do nothing but watch: the outage ends by itself (e.g. a paused server thawing)."""

    step: Literal["wait"]
    timeout_s: PositiveSeconds = 120.0


class RestoreBackupStep(Model):
    """Restore a backup into a fresh container, newest verified first, falling back to older."""

    step: Literal["restore_backup"]
    backup: str = "latest_verified"
    fallback_to_older: bool = True
    timeout_s: PositiveSeconds = 300.0


class PitrTarget(Model):
    """Where point-in-time recovery should stop: exactly one of the keys."""

    before_fault: bool | None = None
    offset_s: Annotated[float, _float(ge=-MAX_DRILL_S, le=MAX_DRILL_S)] = 0.0
    # The primary's log position read just before the incident was injected (a WAL LSN, a
    # binlog file:offset): the "stop right before the damaging statement" of a DBA.
    fault_position: bool | None = None
    time: Annotated[str, AfterValidator(_iso_time)] | None = None
    lsn: Annotated[str, Field(pattern=r"^[0-9A-Fa-f]+/[0-9A-Fa-f]+$")] | None = None
    name: str | None = None
    # Stop as soon as the backup is consistent (pgBackRest restore --type=immediate).
    immediate: bool | None = None


class PitrStep(Model):
    """Restore a physical backup and replay archived WAL up to a target, then promote."""

    step: Literal["pitr"]
    backup: str = "latest_verified"
    target: PitrTarget = PitrTarget(before_fault=True)
    tolerance_s: PositiveSeconds = 1.0
    timeout_s: PositiveSeconds = 300.0
    # pgbackrest backups only: restore with --delta over the failed primary's own data
    # directory (only changed files rewritten) instead of into a fresh volume.
    delta: bool = False


class PromoteStep(Model):
    """Promote a streaming replica to primary (failover)."""

    step: Literal["promote"]
    replica: Name
    timeout_s: PositiveSeconds = 60.0


class ReplayDelayedStep(Model):
    """Let a delayed replica replay up to just before the fault, then promote it."""

    step: Literal["replay_delayed"]
    replica: Name
    target: PitrTarget = PitrTarget(before_fault=True)
    tolerance_s: PositiveSeconds = 1.0
    timeout_s: PositiveSeconds = 120.0


class SwitchStep(Model):
    """Point clients at another existing server (e.g. the migration target) and verify it."""

    step: Literal["switch"]
    server: Name
    timeout_s: PositiveSeconds = 30.0


class SqlStep(Model):
    """Run SQL on the primary: a roll-forward migration or a compensating script."""

    step: Literal["sql"]
    kind: Literal["roll_forward", "compensating"] = "roll_forward"
    statements: EngineSql
    timeout_s: PositiveSeconds = 60.0


RecoveryStep = Annotated[
    RestartStep
    | WaitStep
    | RestoreBackupStep
    | PitrStep
    | PromoteStep
    | ReplayDelayedStep
    | SqlStep
    | SwitchStep,
    Field(discriminator="step"),
]


class Recovery(Model):
    """How the outage is detected and the ordered recovery procedure."""

    probe_interval_s: Annotated[float, _float(gt=0, le=10)] = 0.1
    probe_timeout_s: Annotated[float, _float(gt=0, le=30)] = 0.5
    detect_timeout_s: PositiveSeconds = 30.0
    steps: list[RecoveryStep] = Field(default_factory=list)


class Objectives(Model):
    """Recovery objectives the drill is measured against."""

    rto_s: PositiveObjectiveSeconds
    rpo_s: ObjectiveSeconds
    max_lost_writes: WriteCount | None = None


class Expect(Model):
    """What the drill is expected to show; the verdict is whether it did."""

    objectives: Literal["met", "missed"] = "met"
    recovered: bool = True
    data_verified: bool = True
    restored_from: Name | None = None
    rejected_backups: UniqueNames = Field(default_factory=list)
    landed_on_target: bool = True
    alerted: bool | None = None
    gate_blocked: bool | None = None


class Strategy(Model):
    """One way to recover from the same failure; each runs from an identical starting state."""

    name: Name
    summary: str = ""
    steps: Annotated[list[RecoveryStep], Field(min_length=1)]
    expect: Expect = Expect()


class Monitoring(Model):
    """What the team watches: an alert on the first failed or undersized backup."""

    backup_alerts: bool = False


class Source(Model):
    """Where an incident scenario's story comes from."""

    title: str
    date: str = ""
    url: str = ""


class ExploreRange(Model):
    """A number an explore search varies: from ``min`` to ``max`` in steps of ``step``."""

    min: Annotated[float, _float(ge=0, le=MAX_COUNT)]
    max: Annotated[float, _float(ge=0, le=MAX_COUNT)]
    step: Annotated[float, _float(gt=0, le=MAX_COUNT)] = 0.1


# One value an explore search may choose: a name (a fault, a step) or a number.
ExploreChoice = (
    Name | Annotated[int, _int(ge=0, le=MAX_COUNT)] | Annotated[float, _float(ge=0, le=MAX_COUNT)]
)

# What an explore search tries to break (harness/explore.py says what each one checks).
ExploreProperty = Literal[
    "expectations_met",
    "objectives_met",
    "no_unexpected_rows",
    "pitr_on_target",
    "lost_writes_within",
    "faults_took_effect",
]


class Explore(Model):
    """Bounds of ``recovery-drill explore``: the values it may vary (a dotted path into this
    scenario, e.g. ``backups.nightly.at_s`` or ``timeline.0.fault``, to a range or a list of
    choices) and the properties a run must keep."""

    vary: Annotated[
        dict[str, ExploreRange | Annotated[list[ExploreChoice], Field(min_length=1)]],
        Field(min_length=1),
    ]
    properties: Annotated[list[ExploreProperty], Field(min_length=1)] = ["expectations_met"]


class Scenario(Model):
    """One drill: engines, data, workload, backups, faults, recovery, objectives, expectation."""

    name: Name
    summary: Annotated[str, Field(min_length=1, max_length=200)]
    narrative: str = ""
    source: Source | None = None
    lesson: str = ""
    twin_of: Name | None = None
    time_compression: str = ""
    engines: Annotated[EngineRefs, Field(min_length=1)]
    images: dict[EngineRef, str] = Field(default_factory=dict)
    dataset: Dataset = Dataset()
    workload: Workload = Workload()
    stores: list[Store] = Field(default_factory=list)
    topology: Topology = Topology()
    monitoring: Monitoring = Monitoring()
    backups: list[Backup] = Field(default_factory=list)
    timeline: list[Fault] = Field(default_factory=list)
    recovery: Recovery = Recovery()
    objectives: Objectives
    expect: Expect = Expect()
    strategies: list[Strategy] = Field(default_factory=list)
    migration: Migration | None = None
    checks: list[DataCheck] = Field(default_factory=list)
    explore: Explore | None = None

    def backup(self, name: str) -> Backup:
        """The backup job called ``name``."""
        return next(b for b in self.backups if b.name == name)

    @property
    def server_faults(self) -> list[ServerFault]:
        """Faults injected on a schedule (everything but faults of a backup job)."""
        return [
            f
            for f in self.timeline
            if not isinstance(f, SilentEmptyBackup | SilentEmptyUpload | UploadCredentialsExpired)
        ]

    @property
    def incident(self) -> ServerFault | None:
        """The fault that starts the RTO and RPO clocks: the last scheduled one.

        Earlier faults are preconditions (a broken standby, a gap in the archive, a corrupt
        backup); the last is the incident the recovery procedure answers.
        """
        faults = sorted(self.server_faults, key=lambda f: f.at_s)
        return faults[-1] if faults else None

    def nodes(self) -> list[str]:
        """Every server name a fault or step may refer to."""
        return ["primary", *(r.name for r in self.topology.replicas)]

    def for_strategy(self, name: str) -> Scenario:
        """This scenario with one strategy's steps and expectation as its recovery procedure."""
        strategy = next(x for x in self.strategies if x.name == name)
        recovery = self.recovery.model_copy(update={"steps": strategy.steps})
        return self.model_copy(update={"recovery": recovery, "expect": strategy.expect})

    @property
    def backup_faults(self) -> list[BackupJobFault]:
        """Faults that act on a backup job rather than on a server."""
        return [
            f
            for f in self.timeline
            if isinstance(f, SilentEmptyBackup | SilentEmptyUpload | UploadCredentialsExpired)
        ]

    def backup_fault(self, backup: str) -> BackupJobFault | None:
        """The fault that breaks backup job ``backup``, if any."""
        return next((f for f in self.backup_faults if backup in f.targets), None)


ALL_FIELD_NAMES: frozenset[str] = frozenset(
    name for model in Model.__subclasses__() for name in model.model_fields
)
