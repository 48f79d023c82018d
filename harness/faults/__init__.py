"""The fault catalogue: one small class per fault, built from its scenario entry.

Every fault records whether it actually took effect; a fault that did not makes the drill
inconclusive, never a pass.
"""

from __future__ import annotations

from harness.faults.base import FaultContext, FaultOutcome, NodeFault
from harness.faults.delete_writes import DeleteWrites
from harness.faults.kill import KillServer
from harness.faults.pause import PauseServer
from harness.faults.rm_rf_datadir import RmRfDatadir
from harness.faults.silent_empty_backup import SilentEmptyBackup
from harness.scenario import model

NODE_FAULTS: dict[str, type] = {
    "rm_rf_datadir": RmRfDatadir,
    "kill": KillServer,
    "pause": PauseServer,
    "delete_writes": DeleteWrites,
}
BACKUP_FAULTS: dict[str, type] = {"silent_empty_backup": SilentEmptyBackup}
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
    "node_fault",
]
