"""ransomware: the data files and every backup reachable from the database host encrypted.

Reachable means mounted on the database server (the WAL archive, stores marked
``reachable_from_db``, like a NAS share). Each file is replaced by an unreadable
``.locked`` copy, as ransomware does; offsite stores, mounted only in the backup agent,
survive. That is the 3-2-1 rule's point.

An S3 store whose credentials are reachable from the database host (``reachable_from_db``) is
attacked through the S3 API with those credentials: every object is overwritten with its
encrypted bytes and every version deleted. Object Lock (``immutable``) refuses the deletes of
locked versions, and an overwrite only adds a new version: the locked ones survive.
"""

from __future__ import annotations

import shlex

import botocore.exceptions

from harness.backups.s3store import S3Store
from harness.faults.base import Effect, FaultContext
from harness.scenario import model

# Deadlines: encrypting every file in reach, then counting what is left readable.
ENCRYPT_TIMEOUT_S = 300.0
INSPECT_TIMEOUT_S = 60.0

# Each file: its bytes scrambled (gzip, then every byte shifted) into NAME.locked, then removed.
ENCRYPT = (
    "find {roots} -type f ! -name '*.locked' -print0 2>/dev/null | "
    "while IFS= read -r -d '' f; do "
    'gzip -c "$f" | tr \'\\000-\\377\' \'\\177-\\377\\000-\\176\' > "$f.locked" && rm -f "$f"; '
    "done; true"
)


class Ransomware:
    """Encrypt the server's data directory and every store mounted on it."""

    causes_outage = True
    type = "ransomware"

    def __init__(self, spec: model.Ransomware) -> None:
        self.spec = spec
        self.roots: list[str] = []
        self.s3_report: list[str] = []
        self.s3_destroyed = 0

    def inject(self, ctx: FaultContext) -> None:
        self.roots = [ctx.engine.datadir, *ctx.reachable_mounts]
        roots = " ".join(shlex.quote(r) for r in self.roots)
        ctx.lab.exec(
            ctx.target.container_id,
            ["bash", "-c", ENCRYPT.format(roots=roots)],
            timeout_s=ENCRYPT_TIMEOUT_S,
            action="encrypt the files of",
        )
        stores = ctx.agent.s3.values() if ctx.agent is not None else []
        for store in stores:
            if store.spec.reachable_from_db:
                self.s3_report.append(self._attack(store))

    def _attack(self, store: S3Store) -> str:
        """Encrypt-by-overwrite each object, then delete every version: what an attacker with
        the store's credentials does."""
        s3 = store.client()
        prefix = store.spec.prefix
        keys = [
            o["Key"]
            for page in s3.get_paginator("list_objects_v2").paginate(
                Bucket=store.bucket, Prefix=prefix
            )
            for o in page.get("Contents", [])
        ]
        destroyed = refused = overwritten = 0
        for key in keys:
            try:
                s3.put_object(
                    Bucket=store.bucket,
                    Key=key,
                    Body=b"encrypted by ransomware",
                    ChecksumAlgorithm="SHA256",
                )
                overwritten += 1
            except botocore.exceptions.ClientError:
                refused += 1
        for page in s3.get_paginator("list_object_versions").paginate(
            Bucket=store.bucket, Prefix=prefix
        ):
            for v in page.get("Versions", []):
                extra = (
                    {"VersionId": v["VersionId"]}
                    if v.get("VersionId") not in (None, "null")
                    else {}
                )
                try:
                    s3.delete_object(Bucket=store.bucket, Key=v["Key"], **extra)
                    destroyed += 1
                except botocore.exceptions.ClientError:
                    refused += 1
        self.s3_destroyed += destroyed
        return (
            f"S3 store {store.name}: {overwritten} of {len(keys)} objects overwritten, "
            f"{destroyed} versions deleted, {refused} writes refused (Object Lock)"
        )

    def took_effect(self, ctx: FaultContext) -> Effect:
        roots = " ".join(shlex.quote(r) for r in self.roots)
        result = ctx.lab.exec(
            ctx.target.container_id,
            [
                "bash",
                "-c",
                f"find {roots} -type f ! -name '*.locked' 2>/dev/null | wc -l; "
                f"find {roots} -type f -name '*.locked' 2>/dev/null | wc -l",
            ],
            timeout_s=INSPECT_TIMEOUT_S,
            action="inspect the files of",
        )
        words = result.stdout.split()
        plain, locked = (int(words[0]), int(words[1])) if len(words) == 2 else (-1, 0)
        return Effect.of(
            took_effect=locked > 0 and plain == 0,
            evidence=f"{locked} files encrypted, {plain} left readable under "
            f"{', '.join(self.roots)}" + "".join(f"; {x}" for x in self.s3_report),
        )

    def revert(self, ctx: FaultContext) -> None:
        """Encrypted is encrypted: only a copy out of reach brings the data back."""
