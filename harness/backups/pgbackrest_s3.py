"""pgBackRest's repository on an S3 store: the repository options from the store, and the
object-level operations the harness does on it through the S3 API (finding a set's files and
the archived WAL, and the faults' damage: a deleted or overwritten object).

The lab's S3 server is reached over TLS with the run's CA (pgBackRest speaks S3 over TLS only);
an external ``endpoint_url`` must be ``https://`` and is verified against the system's CAs.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from harness.backups.s3store import S3_ERRORS, S3Store
from harness.engines.postgres.pgbackrest import STANZA, S3Repository
from harness.errors import InfrastructureError, InputError
from harness.lab.s3 import CA_FILE, TLS_MOUNT

SUBDIR = "pgbackrest"
HTTPS_PORT = 443


def s3_repository(store: S3Store) -> S3Repository:
    """The repository options for ``store`` as the run's containers reach it."""
    url = urlsplit(store.endpoint)
    if url.scheme != "https" or not url.hostname:
        raise InputError(
            f"store {store.name}: pgBackRest talks to S3 over TLS only, and the endpoint "
            f"{store.endpoint} is not https://"
        )
    prefix = store.spec.prefix.strip("/")
    host = url.hostname
    # AWS wants virtual-host addressing; moto, MinIO and most others take path style.
    style: Literal["path", "host"] = "host" if host.endswith(".amazonaws.com") else "path"
    return S3Repository(
        bucket=store.bucket,
        endpoint=host,
        port=url.port or HTTPS_PORT,
        region=store.spec.region,
        path=f"/{prefix}/{SUBDIR}" if prefix else f"/{SUBDIR}",
        access_key=store.credentials.access_key,
        secret_key=store.credentials.secret_key,
        uri_style=style,
        ca_file=CA_FILE if store.tls_volume else "",
        mounts=((store.tls_volume, TLS_MOUNT),) if store.tls_volume else (),
    )


def set_url(store: S3Store, repo: S3Repository, label: str, *, stanza: str = STANZA) -> str:
    """The ``s3://`` URL of a backup set's folder in the repository."""
    return store.url(f"{repo.key_prefix()}/backup/{stanza}/{label}")


@dataclass(frozen=True)
class StoredObject:
    """One object of the repository: its key and size."""

    key: str
    size_bytes: int


def list_objects(store: S3Store, prefix: str) -> list[StoredObject]:
    """Every object under ``prefix`` (a key prefix), in key order."""
    found: list[StoredObject] = []
    try:
        pages = (
            store.client()
            .get_paginator("list_objects_v2")
            .paginate(Bucket=store.bucket, Prefix=prefix)
        )
        for page in pages:
            found += [StoredObject(o["Key"], int(o["Size"])) for o in page.get("Contents", [])]
    except S3_ERRORS as exc:
        raise InfrastructureError(f"could not list s3://{store.bucket}/{prefix}: {exc}") from exc
    return sorted(found, key=lambda o: o.key)


def delete_object(store: S3Store, key: str) -> None:
    """Delete ``key`` (the wal_gap fault's removal)."""
    try:
        store.client().delete_object(Bucket=store.bucket, Key=key)
    except S3_ERRORS as exc:
        raise InfrastructureError(f"could not delete s3://{store.bucket}/{key}: {exc}") from exc


def overwrite_bytes(store: S3Store, key: str, *, count: int, offset: int | None = None) -> None:
    """Replace ``count`` bytes of ``key`` with random ones, at ``offset`` (default: the
    middle), and upload it again under the same key: bit rot or tampering in the bucket."""
    s3 = store.client()
    try:
        data = bytearray(s3.get_object(Bucket=store.bucket, Key=key)["Body"].read())
        at = len(data) // 2 if offset is None else min(offset, max(len(data) - 1, 0))
        end = min(at + count, len(data))
        data[at:end] = secrets.token_bytes(end - at)
        s3.put_object(Bucket=store.bucket, Key=key, Body=bytes(data))
    except S3_ERRORS as exc:
        raise InfrastructureError(f"could not overwrite s3://{store.bucket}/{key}: {exc}") from exc
