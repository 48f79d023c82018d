"""S3 backup stores (``kind: s3``): a bucket (and prefix) on the lab's S3 server or on an
external endpoint the scenario names.

Backups reach the store through the S3 API only: the agent uploads and downloads with ``rd-s3``
(boto3); the harness checks objects with boto3 from the host, using the store's own metadata
(size, ETag, the x-amz-checksum-sha256 the uploader sent) and downloading only when the store
has no sha256 of its own. A backup's location is ``s3://BUCKET/KEY`` and, on a versioned
(Object Lock) bucket, ``?versionId=V``: the version the job wrote, which a ransomware overwrite
cannot replace.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import botocore.exceptions

from harness.errors import InfrastructureError, InputError
from harness.lab.lab import Lab
from harness.lab.s3 import CA_FILE, S3_IMAGE, TLS_MOUNT, S3Credentials, S3Server, s3_client
from harness.scenario.model import Store

S3_ERRORS = (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError)


@dataclass(frozen=True)
class ObjectFacts:
    """What the store says about one object version."""

    exists: bool
    size_bytes: int = 0
    sha256: str = ""
    etag: str = ""
    version_id: str = ""
    sha256_from_store: bool = False


@dataclass
class S3Store:
    """One ``kind: s3`` store of a run."""

    spec: Store
    bucket: str
    endpoint: str  # as containers of the run reach it
    host_endpoint: str | None  # as the harness reaches it (None: AWS's default endpoint)
    credentials: S3Credentials = field(repr=False)
    versioned: bool = False
    # On the lab's server with authentication enforced: the upload job's own IAM user and key
    # (the harness keeps ``credentials``), so that the job's key can expire on its own.
    job_user: str = ""
    job_credentials: S3Credentials | None = field(default=None, repr=False)
    server: S3Server | None = field(default=None, repr=False)
    job_key_expired: bool = False
    # The lab's S3 server over TLS: the run's CA on the host, and the volume holding it for
    # containers (mounted at TLS_MOUNT; commands get AWS_CA_BUNDLE).
    ca_file: str = ""
    tls_volume: str = ""

    @property
    def tls_mounts(self) -> dict[str, str]:
        """The volume a container of the run mounts to verify the lab's S3 server."""
        return {self.tls_volume: TLS_MOUNT} if self.tls_volume else {}

    @property
    def name(self) -> str:
        return self.spec.name

    def key(self, filename: str) -> str:
        prefix = self.spec.prefix.strip("/")
        return f"{prefix}/{filename}" if prefix else filename

    def url(self, key: str, version_id: str = "") -> str:
        return f"s3://{self.bucket}/{key}" + (f"?versionId={version_id}" if version_id else "")

    def env(self) -> dict[str, str]:
        """Environment for a command in the lab (the secret is masked in anything it prints)."""
        return {
            "S3_ENDPOINT_URL": self.endpoint,
            "S3_BUCKET": self.bucket,
            "S3_PREFIX": self.spec.prefix.strip("/"),
            "AWS_DEFAULT_REGION": self.spec.region,
            **self.credentials.env(),
            **({"AWS_CA_BUNDLE": CA_FILE} if self.tls_volume else {}),
        }

    def job_env(self) -> dict[str, str]:
        """Environment for the upload job: its own key where it has one (else ``env()``)."""
        job = self.job_credentials
        return self.env() | (job.env() if job is not None else {})

    def expire_job_key(self) -> bool:
        """Delete the upload job's access key through IAM, once; the job keeps presenting it
        (False: the job has no key of its own here)."""
        if self.server is None or self.job_credentials is None:
            return False
        if not self.job_key_expired:
            self.server.delete_key(self.job_user, self.job_credentials)
            self.job_key_expired = True
        return True

    def renew_job_key(self) -> None:
        """Give the upload job a fresh key (the team rotated it): later uploads work again."""
        if self.server is not None and self.job_key_expired:
            self.job_credentials = self.server.new_key(self.job_user)
            self.job_key_expired = False

    def objects(self) -> list[tuple[str, float]]:
        """(key, last-modified epoch) of every object under the prefix, oldest first."""
        try:
            pages = (
                self.client()
                .get_paginator("list_objects_v2")
                .paginate(Bucket=self.bucket, Prefix=self.spec.prefix)
            )
            found = [
                (str(o["Key"]), o["LastModified"].timestamp())
                for page in pages
                for o in page.get("Contents", [])
            ]
        except S3_ERRORS as exc:
            raise InfrastructureError(f"could not list s3://{self.bucket}: {exc}") from exc
        return sorted(found, key=lambda o: o[1])

    def client(self) -> Any:
        return s3_client(
            self.host_endpoint, self.credentials, self.spec.region, verify=self.ca_file or None
        )

    def facts(self, url: str) -> ObjectFacts:
        """Existence, size and sha256 of the object version ``url`` names."""
        key, version = parse_url(url)
        s3 = self.client()
        extra = {"VersionId": version} if version else {}
        try:
            head = s3.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED", **extra)
        except botocore.exceptions.ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchKey", "NoSuchVersion", "NotFound", "403", "405"):
                return ObjectFacts(exists=False)
            raise InfrastructureError(f"could not inspect {url}: {exc}") from exc
        except botocore.exceptions.BotoCoreError as exc:
            raise InfrastructureError(f"could not inspect {url}: {exc}") from exc
        stored = head.get("ChecksumSHA256")
        if stored and "-" not in stored:
            sha, own = base64.b64decode(stored).hex(), True
        else:
            sha, own = self._download_sha256(key, version), False
        return ObjectFacts(
            exists=True,
            size_bytes=int(head["ContentLength"]),
            sha256=sha,
            etag=str(head.get("ETag", "")).strip('"'),
            version_id=str(head.get("VersionId") or ""),
            sha256_from_store=own,
        )

    def _download_sha256(self, key: str, version: str) -> str:
        extra = {"VersionId": version} if version else {}
        try:
            body = self.client().get_object(Bucket=self.bucket, Key=key, **extra)["Body"]
            digest = hashlib.sha256()
            for chunk in iter(lambda: body.read(1 << 20), b""):
                digest.update(chunk)
        except S3_ERRORS as exc:
            raise InfrastructureError(f"could not read s3://{self.bucket}/{key}: {exc}") from exc
        return digest.hexdigest()

    def latest_version(self, key: str) -> str:
        """The current version id of ``key`` ('' on an unversioned bucket or if missing)."""
        if not self.versioned:
            return ""
        facts = self.facts(self.url(key))
        return facts.version_id


def parse_url(url: str) -> tuple[str, str]:
    """``s3://bucket/key?versionId=V`` -> (key, version id or '')."""
    parts = urlsplit(url)
    return parts.path.lstrip("/"), parse_qs(parts.query).get("versionId", [""])[0]


def open_stores(
    lab: Lab,
    stores: list[Store],
    *,
    image: str | None = None,
    enforce_auth: bool = False,
    tls: bool = False,
) -> dict[str, S3Store]:
    """The scenario's S3 stores, ready: the lab's own server started (once) for those without
    an endpoint, their buckets created; external ones given their credentials from the
    environment variables the scenario names. ``enforce_auth``: the lab's server checks every
    request, and each of its stores gets an upload job key of its own (which can expire).
    ``tls``: the lab's server over TLS with the run's CA (a pgBackRest repository)."""
    opened: dict[str, S3Store] = {}
    server: S3Server | None = None
    for spec in (s for s in stores if s.kind == "s3"):
        bucket = spec.bucket or f"rd-{spec.name.replace('_', '-').replace('.', '-')}"
        if spec.endpoint_url is None:
            if server is None:
                server = S3Server.start(
                    lab,
                    image=image or S3_IMAGE,
                    enforce_auth=enforce_auth,
                    **({"tls": True} if tls else {}),  # plain HTTP otherwise, as before
                )
            server.create_bucket(
                bucket, object_lock=spec.immutable, retention_days=spec.retention_days
            )
            opened[spec.name] = S3Store(
                spec,
                bucket,
                server.endpoint,
                server.host_endpoint,
                server.credentials,
                versioned=spec.immutable,
                ca_file=server.ca_file,
                tls_volume=server.tls_volume,
            )
            if server.auth_enforced:
                user = f"rd-job-{spec.name}"
                opened[spec.name].job_user = user
                opened[spec.name].job_credentials = server.issue_key(user, bucket)
                opened[spec.name].server = server
            continue
        opened[spec.name] = S3Store(
            spec,
            bucket,
            spec.endpoint_url,
            spec.endpoint_url,
            _external_credentials(spec),
            versioned=spec.immutable,
        )
    return opened


def _external_credentials(spec: Store) -> S3Credentials:
    names = (
        spec.access_key_env or "AWS_ACCESS_KEY_ID",
        spec.secret_key_env or "AWS_SECRET_ACCESS_KEY",
    )
    missing = [n for n in names if not os.environ.get(n)]
    if missing:
        raise InputError(
            f"store {spec.name}: the environment variable(s) {', '.join(missing)} holding its "
            "credentials are not set"
        )
    return S3Credentials(os.environ[names[0]], os.environ[names[1]])
