"""An ``s3://bucket/key[?versionId=V]`` object as a restore-test SOURCE: fetched through the S3
API (boto3) from the host, and verified against the store's own metadata before anything is
restored.

Verification of what was fetched, strongest first:
- ``x-amz-checksum-sha256`` (HeadObject with ChecksumMode=ENABLED): the sha256 the uploader
  had the store record, compared with the sha256 of the bytes fetched;
- the ETag, where it is an MD5 of the content (a single-part upload: 32 hex digits, no
  ``-N`` multipart suffix), compared with the MD5 of the bytes fetched;
- otherwise only the size (ContentLength) can be compared, and the result says so.

Credentials come from the environment variables the caller names (default
``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``, else boto3's own chain: profiles, instance
roles); they are held in memory only and never written anywhere.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import botocore.config
import botocore.exceptions

from harness.errors import InfrastructureError, InputError

S3_ERRORS = (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError)
MISSING_CODES = ("404", "NoSuchKey", "NoSuchVersion", "NotFound", "NoSuchBucket")
MD5_ETAG = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class S3Location:
    bucket: str
    key: str
    version_id: str = ""

    @property
    def url(self) -> str:
        tail = f"?versionId={self.version_id}" if self.version_id else ""
        return f"s3://{self.bucket}/{self.key}{tail}"

    @property
    def filename(self) -> str:
        return self.key.rstrip("/").rsplit("/", 1)[-1]


def parse_s3_url(text: str) -> S3Location:
    """``s3://bucket/key[?versionId=V]``; InputError if the bucket or key is missing."""
    parts = urlsplit(text)
    key = parts.path.lstrip("/")
    if parts.scheme != "s3" or not parts.netloc or not key or key.endswith("/"):
        raise InputError(f"{text}: an S3 source is s3://BUCKET/KEY (one object)")
    version = parse_qs(parts.query).get("versionId", [""])[0]
    return S3Location(parts.netloc, key, version)


class ObjectMissing(Exception):
    """The store says the object (or its bucket, or the version) does not exist."""


@dataclass(frozen=True)
class FetchedObject:
    """An object fetched to a local file, with what the store said and what was fetched."""

    location: S3Location
    path: Path
    size_bytes: int
    sha256: str
    etag: str
    version_id: str
    last_modified_wall: float
    download_s: float
    verified_by: str  # "x-amz-checksum-sha256", "etag-md5" or "size only"


@dataclass(frozen=True)
class S3Access:
    """Where and how to reach the store (the secret never leaves this object)."""

    endpoint_url: str | None = None
    region: str | None = None
    access_key_env: str = "AWS_ACCESS_KEY_ID"
    secret_key_env: str = "AWS_SECRET_ACCESS_KEY"

    def client(self) -> Any:
        access, secret = os.environ.get(self.access_key_env), os.environ.get(self.secret_key_env)
        if bool(access) != bool(secret):
            raise InputError(
                f"set both {self.access_key_env} and {self.secret_key_env} (or neither, to use "
                "boto3's own credential chain)"
            )
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
            aws_access_key_id=access or None,
            aws_secret_access_key=secret or None,
            config=botocore.config.Config(
                s3={"addressing_style": "path"}, retries={"max_attempts": 3}, connect_timeout=10
            ),
        )


def _code(exc: botocore.exceptions.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def fetch_object(location: S3Location, access: S3Access, folder: Path) -> FetchedObject:
    """Fetch ``location`` into ``folder`` and verify it against the store's metadata.

    ObjectMissing if the store says it is not there; InfrastructureError if the store cannot
    be asked (unreachable, refused credentials); ValueError if the fetched bytes differ from
    what the store says the object is."""
    s3 = access.client()
    extra = {"VersionId": location.version_id} if location.version_id else {}
    where = location.url
    try:
        head = s3.head_object(
            Bucket=location.bucket, Key=location.key, ChecksumMode="ENABLED", **extra
        )
    except botocore.exceptions.ClientError as exc:
        if _code(exc) in MISSING_CODES:
            raise ObjectMissing(f"exists: the store has no object {where} ({_code(exc)})") from exc
        raise InfrastructureError(f"could not inspect {where}: {exc}") from exc
    except botocore.exceptions.BotoCoreError as exc:
        raise InfrastructureError(f"could not inspect {where}: {exc}") from exc
    version = str(head.get("VersionId") or "")
    if version and version != "null":
        extra = {"VersionId": version}  # the version inspected is the version fetched
    path = folder / location.filename
    sha, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    started = time.monotonic()
    try:
        body = s3.get_object(Bucket=location.bucket, Key=location.key, **extra)["Body"]
        with path.open("wb") as out:
            for chunk in iter(lambda: body.read(1 << 20), b""):
                out.write(chunk)
                sha.update(chunk)
                md5.update(chunk)
                size += len(chunk)
    except botocore.exceptions.ClientError as exc:
        if _code(exc) in MISSING_CODES:
            raise ObjectMissing(f"exists: {where} vanished while fetched ({_code(exc)})") from exc
        raise InfrastructureError(f"could not fetch {where}: {exc}") from exc
    except botocore.exceptions.BotoCoreError as exc:
        raise InfrastructureError(f"could not fetch {where}: {exc}") from exc
    download_s = time.monotonic() - started
    expected_size = int(head["ContentLength"])
    if size != expected_size:
        raise ValueError(f"fetched {size} bytes, the store says {expected_size}")
    etag = str(head.get("ETag", "")).strip('"')
    stored_sha = str(head.get("ChecksumSHA256") or "")
    if stored_sha and "-" not in stored_sha:
        want = base64.b64decode(stored_sha).hex()
        if want != sha.hexdigest():
            raise ValueError(
                f"the fetched bytes' sha256 {sha.hexdigest()[:16]}... differs from the "
                f"store's x-amz-checksum-sha256 {want[:16]}..."
            )
        verified_by = "x-amz-checksum-sha256"
    elif MD5_ETAG.match(etag):
        if etag != md5.hexdigest():
            raise ValueError(
                f"the fetched bytes' MD5 {md5.hexdigest()} differs from the store's ETag {etag}"
            )
        verified_by = "etag-md5"
    else:
        verified_by = "size only"
    modified = head.get("LastModified")
    return FetchedObject(
        location=S3Location(location.bucket, location.key, version if version != "null" else ""),
        path=path,
        size_bytes=size,
        sha256=sha.hexdigest(),
        etag=etag,
        version_id=version,
        last_modified_wall=modified.timestamp() if modified else time.time(),
        download_s=round(download_s, 4),
        verified_by=verified_by,
    )
