"""The fault catalogue: one small class per fault, built from its scenario entry.

Every fault records whether it actually took effect; a fault that did not makes the drill
inconclusive, never a pass.
"""

from __future__ import annotations

from harness.faults.backup_set_expired import BackupSetExpired
from harness.faults.backup_store_full import BackupStoreFull
from harness.faults.bad_migration import BadMigration
from harness.faults.base import FaultContext, FaultOutcome, NodeFault
from harness.faults.corrupt_backup import CorruptBackup
from harness.faults.decommission import Decommission
from harness.faults.delete_writes import DeleteWrites
from harness.faults.kill import KillServer
from harness.faults.migration_cutover import MigrationCutover
from harness.faults.pause import PauseServer
from harness.faults.ransomware import Ransomware
from harness.faults.replication_break import ReplicationBreak
from harness.faults.retention_deleted import RetentionDeleted
from harness.faults.rm_rf_datadir import RmRfDatadir
from harness.faults.silent_empty_backup import SilentEmptyBackup
from harness.faults.silent_empty_upload import SilentEmptyUpload
from harness.faults.upload_credentials_expired import UploadCredentialsExpired
from harness.faults.wal_gap import WalGap
from harness.scenario import model

NODE_FAULTS: dict[str, type] = {
    "rm_rf_datadir": RmRfDatadir,
    "kill": KillServer,
    "pause": PauseServer,
    "delete_writes": DeleteWrites,
    "wal_gap": WalGap,
    "replication_break": ReplicationBreak,
    "bad_migration": BadMigration,
    "corrupt_backup": CorruptBackup,
    "backup_set_expired": BackupSetExpired,
    "backup_store_full": BackupStoreFull,
    "decommission": Decommission,
    "migration_cutover": MigrationCutover,
    "ransomware": Ransomware,
    "retention_deleted": RetentionDeleted,
}
BACKUP_FAULTS: dict[str, type] = {
    "silent_empty_backup": SilentEmptyBackup,
    "silent_empty_upload": SilentEmptyUpload,
    "upload_credentials_expired": UploadCredentialsExpired,
}
FAULT_TYPES = sorted([*NODE_FAULTS, *BACKUP_FAULTS])


def node_fault(spec: model.ServerFault) -> NodeFault:
    """The fault object for a server fault entry of the timeline."""
    fault: NodeFault = NODE_FAULTS[spec.fault](spec)
    return fault


__all__ = [
    "BACKUP_FAULTS",
    "FAULT_TYPES",
    "NODE_FAULTS",
    "FaultContext",
    "FaultOutcome",
    "NodeFault",
    "SilentEmptyBackup",
    "SilentEmptyUpload",
    "UploadCredentialsExpired",
    "node_fault",
]
