"""The typed scenario model: what a scenario file may say, and nothing else.

Every model forbids unknown keys and is frozen. Cross-references (a backup naming a store, a
fault naming a backup, an engine name) are checked in ``references.py`` so that all problems
are reported together with their line numbers.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")]
Seconds = Annotated[float, Field(ge=0)]
PositiveSeconds = Annotated[float, Field(gt=0)]


class Model(BaseModel):
    """Base for every scenario model: strict keys, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Dataset(Model):
    """Seeded tables: how many, how many rows each, and the random seed."""

    tables: Annotated[int, Field(ge=1, le=50)] = 3
    rows_per_table: Annotated[int, Field(ge=1, le=50_000_000)] = 10_000
    seed: int = 0


class Workload(Model):
    """The writer that keeps writing during the drill."""

    rate_per_s: Annotated[float, Field(gt=0, le=5000)] = 50.0
    after_recovery_s: Seconds = 1.0


class Store(Model):
    """A backup store outside the database container (its own volume, mounted in an agent)."""

    name: Name
    kind: Literal["volume"] = "volume"


class Backup(Model):
    """A backup job: method, when (seconds after the workload starts), and where to."""

    name: Name
    method: Literal["logical"] = "logical"
    at_s: Seconds
    store: Name
    min_size_ratio: Annotated[float, Field(gt=0, lt=1)] = 0.01


class RmRfDatadir(Model):
    """The data directory wiped under a running server (`rm -rf DATADIR/*`)."""

    causes_outage: ClassVar[bool] = True
    fault: Literal["rm_rf_datadir"]
    at_s: Seconds
    target: Name = "primary"
    path: str | None = Field(default=None, description="defaults to the engine's data directory")


class Kill(Model):
    """SIGKILL of the database server process."""

    causes_outage: ClassVar[bool] = True
    fault: Literal["kill"]
    at_s: Seconds
    target: Name = "primary"


class Pause(Model):
    """The server frozen (cgroup freezer) for exactly ``duration_s``, then thawed."""

    causes_outage: ClassVar[bool] = True
    fault: Literal["pause"]
    at_s: Seconds
    target: Name = "primary"
    duration_s: PositiveSeconds


class DeleteWrites(Model):
    """A logical error: ``count`` acknowledged writer rows deleted (newest, or from the middle)."""

    causes_outage: ClassVar[bool] = False
    fault: Literal["delete_writes"]
    at_s: Seconds
    target: Name = "primary"
    count: Annotated[int, Field(ge=1)]
    where: Literal["newest", "middle"] = "newest"


class SilentEmptyBackup(Model):
    """The dump fails inside a pipeline that still exits 0, leaving a file of a few bytes."""

    fault: Literal["silent_empty_backup"]
    backup: Name
    cause: Literal["stale_credentials", "missing_database"] = "stale_credentials"


ServerFault = RmRfDatadir | Kill | Pause | DeleteWrites
Fault = Annotated[
    RmRfDatadir | Kill | Pause | DeleteWrites | SilentEmptyBackup, Field(discriminator="fault")
]


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


RecoveryStep = Annotated[RestartStep | WaitStep | RestoreBackupStep, Field(discriminator="step")]


class Recovery(Model):
    """How the outage is detected and the ordered recovery procedure."""

    probe_interval_s: Annotated[float, Field(gt=0, le=10)] = 0.1
    probe_timeout_s: Annotated[float, Field(gt=0, le=30)] = 0.5
    detect_timeout_s: PositiveSeconds = 30.0
    steps: list[RecoveryStep] = Field(default_factory=list)


class Objectives(Model):
    """Recovery objectives the drill is measured against."""

    rto_s: PositiveSeconds
    rpo_s: Seconds
    max_lost_writes: Annotated[int, Field(ge=0)] | None = None


class Expect(Model):
    """What the drill is expected to show; the verdict is whether it did."""

    objectives: Literal["met", "missed"] = "met"
    recovered: bool = True
    data_verified: bool = True
    restored_from: Name | None = None
    rejected_backups: list[Name] = Field(default_factory=list)


class Scenario(Model):
    """One drill: engines, data, workload, backups, faults, recovery, objectives, expectation."""

    name: Name
    summary: Annotated[str, Field(min_length=1, max_length=200)]
    narrative: str = ""
    engines: Annotated[list[Name], Field(min_length=1)]
    images: dict[Name, str] = Field(default_factory=dict)
    dataset: Dataset = Dataset()
    workload: Workload = Workload()
    stores: list[Store] = Field(default_factory=list)
    backups: list[Backup] = Field(default_factory=list)
    timeline: list[Fault] = Field(default_factory=list)
    recovery: Recovery = Recovery()
    objectives: Objectives
    expect: Expect = Expect()

    def backup(self, name: str) -> Backup:
        """The backup job called ``name``."""
        return next(b for b in self.backups if b.name == name)

    @property
    def server_faults(self) -> list[ServerFault]:
        """Faults injected into a server; the first one starts the RTO and RPO clocks."""
        return [f for f in self.timeline if not isinstance(f, SilentEmptyBackup)]

    @property
    def backup_faults(self) -> list[SilentEmptyBackup]:
        """Faults that act on a backup job rather than on a server."""
        return [f for f in self.timeline if isinstance(f, SilentEmptyBackup)]


ALL_FIELD_NAMES: frozenset[str] = frozenset(
    name
    for model in (
        Dataset,
        Workload,
        Store,
        Backup,
        RmRfDatadir,
        Kill,
        Pause,
        DeleteWrites,
        SilentEmptyBackup,
        RestartStep,
        WaitStep,
        RestoreBackupStep,
        Recovery,
        Objectives,
        Expect,
        Scenario,
    )
    for name in model.model_fields
)
