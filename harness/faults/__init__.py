"""The fault catalogue: one small class per fault, built from its scenario entry.

Every fault records whether it actually took effect; a fault that did not makes the drill
inconclusive, never a pass.
"""

from __future__ import annotations

from harness.faults.base import FaultOutcome, NodeFault
from harness.faults.kill import KillServer
from harness.faults.rm_rf_datadir import RmRfDatadir
from harness.faults.silent_empty_backup import SilentEmptyBackup
from harness.scenario import model

NODE_FAULTS: dict[str, type[NodeFault]] = {
    "rm_rf_datadir": RmRfDatadir,
    "kill": KillServer,
}
BACKUP_FAULTS = {"silent_empty_backup": SilentEmptyBackup}
FAULT_TYPES = sorted([*NODE_FAULTS, *BACKUP_FAULTS])


def node_fault(spec: model.RmRfDatadir | model.Kill) -> NodeFault:
    """The fault object for a server fault entry of the timeline."""
    return NODE_FAULTS[spec.fault](spec)


__all__ = [
    "BACKUP_FAULTS",
    "FAULT_TYPES",
    "NODE_FAULTS",
    "FaultOutcome",
    "NodeFault",
    "SilentEmptyBackup",
    "node_fault",
]
