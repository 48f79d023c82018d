"""This disk's own sequential write and read throughput: the physical limit a restore (which
writes a database) and a fingerprint pass (which reads one) cannot beat.

``dd`` in a backup-agent container on a lab volume (where Docker keeps the databases' data
directories), 1 GB written with O_DIRECT and an fsync, then read back with O_DIRECT, so that
neither figure is the page cache's.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from bench.lab import bench_lab
from harness.backups.agent import BackupAgent
from harness.errors import InfrastructureError

DD_MB = 1024
_RATE = re.compile(r"copied, ([\d.]+) s")


@dataclass(frozen=True)
class DiskResult:
    size_mb: int
    write_s: float
    read_s: float

    @property
    def write_mb_per_s(self) -> float:
        return self.size_mb * 1.048576 / self.write_s

    @property
    def read_mb_per_s(self) -> float:
        return self.size_mb * 1.048576 / self.read_s

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "write_mb_per_s": round(self.write_mb_per_s, 1),
            "read_mb_per_s": round(self.read_mb_per_s, 1),
        }


def _dd_seconds(output: str) -> float:
    found = _RATE.findall(output)
    if not found:
        raise InfrastructureError(f"dd printed no rate: {output[-300:]}")
    return float(found[-1])


def bench_disk(size_mb: int = DD_MB) -> DiskResult:
    """Write then read ``size_mb`` MB on a Docker volume, bypassing the page cache."""
    with bench_lab() as b:
        volume = b.lab.volume("disk-bench", role="backup-store")
        agent = BackupAgent(b.lab, image=b.image, volumes={"disk": volume}, tmpfs_mb={})
        path = BackupAgent.path("disk", "dd.bin")
        write = agent.run(
            f"dd if=/dev/zero of={path} bs=1M count={size_mb} oflag=direct conv=fsync 2>&1",
            timeout_s=600,
        )
        read = agent.run(f"dd if={path} of=/dev/null bs=1M iflag=direct 2>&1", timeout_s=600)
        agent.run(f"rm -f {path}", timeout_s=60)
        if not (write.ok and read.ok):
            raise InfrastructureError(f"dd failed: {write.tail()} {read.tail()}")
        return DiskResult(
            size_mb,
            _dd_seconds(write.stdout + write.stderr),
            _dd_seconds(read.stdout + read.stderr),
        )
