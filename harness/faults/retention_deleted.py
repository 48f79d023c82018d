"""retention_deleted: a lifecycle or retention job deletes a store's backups older than N seconds,
so that the newest surviving backup may be older than the recovery point the team expects.

On an S3 store the deletion goes through the S3 API with the store's credentials (a locked
version of an Object Lock store is refused, and the refusal is the evidence); on a volume store
the agent removes the files whose modification time is older. Precondition fault: recovery then
shows how old the newest surviving backup is.
"""

from __future__ import annotations

import shlex
import time

import botocore.exceptions

from harness.backups.agent import STORES_ROOT
from harness.faults.base import Effect, FaultContext
from harness.scenario import model

DELETE_TIMEOUT_S = 120.0


class RetentionDeleted:
    """Delete what a retention rule considers expired."""

    causes_outage = False
    type = "retention_deleted"

    def __init__(self, spec: model.RetentionDeleted) -> None:
        self.spec = spec
        self.deleted: list[str] = []
        self.refused: list[str] = []
        self.kept = 0

    def inject(self, ctx: FaultContext) -> None:
        assert ctx.agent is not None
        cutoff = time.time() - self.spec.older_than_s
        store = ctx.agent.s3.get(self.spec.store)
        if store is None:
            root = shlex.quote(f"{STORES_ROOT}/{self.spec.store}")
            result = ctx.agent.run(
                f"find {root} -type f ! -newermt @{cutoff:.3f} -print -delete; "
                f"echo kept $(find {root} -type f | wc -l)",
                timeout_s=DELETE_TIMEOUT_S,
            )
            lines = result.stdout.split("\n")
            self.deleted = [x for x in lines if x.startswith("/")]
            words = next((x.split() for x in lines if x.startswith("kept ")), ["kept", "0"])
            self.kept = int(words[1])
            return
        s3 = store.client()
        pages = s3.get_paginator("list_object_versions").paginate(
            Bucket=store.bucket, Prefix=store.spec.prefix
        )
        for page in pages:
            for v in page.get("Versions", []):
                if v["LastModified"].timestamp() >= cutoff:
                    self.kept += 1
                    continue
                name = f"{v['Key']}@{v.get('VersionId') or '-'}"
                try:
                    extra = {"VersionId": v["VersionId"]} if v.get("VersionId") else {}
                    s3.delete_object(Bucket=store.bucket, Key=v["Key"], **extra)
                    self.deleted.append(name)
                except botocore.exceptions.ClientError:
                    self.refused.append(name)

    def took_effect(self, ctx: FaultContext) -> Effect:
        evidence = (
            f"store {self.spec.store}: {len(self.deleted)} backups older than "
            f"{self.spec.older_than_s:g} s deleted ({', '.join(self.deleted[:5]) or 'none'}), "
            f"{len(self.refused)} refused by Object Lock, {self.kept} newer kept"
        )
        return Effect.of(took_effect=bool(self.deleted), evidence=evidence)

    def revert(self, ctx: FaultContext) -> None:
        """Deleted is deleted."""
