"""A real S3-compatible server in the lab: moto's server (image ``recovery-drill/s3:moto``) on the
run's network, reachable by other containers as ``http://s3:5000`` and from the harness on a
127.0.0.1 port. Credentials are random per run and live only in memory and in the environment
of the commands that need them (never in argv, journals, reports or logs).

With ``tls=True`` (a lab whose S3 store holds a pgBackRest repository: pgBackRest talks to S3
over TLS only) it serves ``https://s3:5000`` with a certificate of a CA made for the run
(harness/lab/tls.py), kept on a volume of the run that clients mount at ``TLS_MOUNT``; every
client verifies it (boto3 from the harness with ``verify=``, commands with ``AWS_CA_BUNDLE``).

The small API other parts use (a pgBackRest repository, the backup agent, faults)::

    server = S3Server.start(lab)                  # labelled container of the run
    server.endpoint                               # "http://s3:5000" (in-network)
    server.create_bucket("backups", object_lock=True, retention_days=1)
    server.env("backups")                         # S3_ENDPOINT_URL, S3_BUCKET, AWS_* for a command
    server.client()                               # boto3 client from the harness (127.0.0.1)

``enforce_auth=True`` (moto only) turns real authentication on: the harness gets an IAM key of
its own, and ``issue_key`` / ``delete_key`` give a backup job a key that can expire
(``harness.lab.s3_iam``). A MinIO image (``--s3-image minio/minio``) runs as
``minio server /data`` on port 9000 with MINIO_ROOT_USER / MINIO_ROOT_PASSWORD.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
import weakref
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.config
import botocore.exceptions
from testcontainers.core.container import DockerContainer

from harness.errors import EngineUnavailable, InfrastructureError
from harness.lab.helpers import run_helper
from harness.lab.images import image_present
from harness.lab.lab import Lab
from harness.lab.tls import make_tls
from harness.polling import poll_until

S3_IMAGE = "recovery-drill/s3:moto"
S3_ALIAS = "s3"
S3_PORT = 5000
READY_TIMEOUT_S = 60.0
# Where containers of a TLS lab see the run's CA (and the S3 server its certificate and key).
TLS_MOUNT = "/rd-tls"
CA_FILE = f"{TLS_MOUNT}/ca.pem"
# TLS is terminated by socat in front of moto (plain HTTP on loopback): moto's own TLS
# (werkzeug's) closes connections without a TLS close_notify, which OpenSSL 3 clients such as
# pgBackRest take for an error ("unexpected eof while reading") on every upload.
MOTO_PLAIN_PORT = 5001
MOTO_TLS_COMMAND = (
    "bash",
    "-c",
    f"moto_server -H 127.0.0.1 -p {MOTO_PLAIN_PORT} & "
    f"exec socat OPENSSL-LISTEN:{S3_PORT},fork,reuseaddr,verify=0,"
    f"cert={TLS_MOUNT}/server.pem,key={TLS_MOUNT}/server.key TCP:127.0.0.1:{MOTO_PLAIN_PORT}",
)
# Writing the certificates onto the run's TLS volume ends well within this.
TLS_SETUP_TIMEOUT_S = 60.0
MINIO_PORT = 9000


def image_kind(image: str) -> str:
    """Which S3 server an image runs: ``minio`` (MinIO's image) or ``moto`` (the default)."""
    name = image.rsplit("/", 1)[-1].split(":", 1)[0].split("@", 1)[0]
    return "minio" if "minio" in name.lower() else "moto"


@dataclass(frozen=True)
class S3Credentials:
    """An access key pair (kept out of every record; masked by ``harness.secrets``)."""

    access_key: str = field(repr=False)
    secret_key: str = field(repr=False)

    @classmethod
    def random(cls) -> S3Credentials:
        return cls("AKIA" + secrets.token_hex(8).upper(), secrets.token_urlsafe(30))

    def env(self) -> dict[str, str]:
        return {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key}


def s3_client(
    endpoint_url: str | None,
    credentials: S3Credentials,
    region: str = "us-east-1",
    *,
    verify: str | None = None,
) -> Any:
    """A boto3 S3 client (path-style addressing: works with moto, MinIO and AWS); ``verify``
    names a CA bundle file to verify the endpoint's TLS certificate against."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        verify=verify,
        aws_access_key_id=credentials.access_key,
        aws_secret_access_key=credentials.secret_key,
        config=botocore.config.Config(
            s3={"addressing_style": "path"}, retries={"max_attempts": 3}, connect_timeout=5
        ),
    )


@dataclass
class S3Server:
    """The run's S3 server: its container, endpoints and credentials."""

    lab: Lab
    container_id: str
    host_endpoint: str
    credentials: S3Credentials
    region: str = "us-east-1"
    endpoint: str = f"http://{S3_ALIAS}:{S3_PORT}"
    image: str = S3_IMAGE
    auth_enforced: bool = False
    # TLS labs: the run's CA as a file on the host (boto3's verify=), and the volume holding
    # it for containers (mount it at TLS_MOUNT).
    ca_file: str = ""
    tls_volume: str = ""

    @classmethod
    def start(
        cls, lab: Lab, *, image: str = S3_IMAGE, enforce_auth: bool = False, tls: bool = False
    ) -> S3Server:
        """Start the server in ``lab`` and wait until it answers (never pulls the image).

        ``enforce_auth``: every request is then checked against moto's IAM (moto only).
        ``tls``: over HTTPS with a certificate of the run's own CA (moto only)."""
        if not image_present(lab.client, image):
            raise EngineUnavailable(
                f"the S3 server image {image} is not available locally; build it with "
                "`compose/images/build.sh s3` (make images)"
            )
        kind = image_kind(image)
        if enforce_auth and kind != "moto":
            raise EngineUnavailable(
                f"expiring a job's S3 credentials needs moto's IAM; {image} is a {kind} image "
                f"(run this scenario with the default S3 image {S3_IMAGE})"
            )
        if tls and kind != "moto":
            raise EngineUnavailable(
                f"a pgBackRest repository on the lab's S3 server needs TLS, set up for moto "
                f"only; {image} is a {kind} image (use the default S3 image {S3_IMAGE})"
            )
        credentials = S3Credentials.random()
        in_port = MINIO_PORT if kind == "minio" else S3_PORT
        container = DockerContainer(image).with_exposed_ports(in_port)
        tls_volume, ca_file = _tls_volume(lab, image) if tls else ("", "")
        if tls:
            container.with_volume_mapping(tls_volume, TLS_MOUNT, mode="ro").with_command(
                [*MOTO_TLS_COMMAND]
            )
        if kind == "minio":
            container.with_command(["server", "/data", "--address", f":{MINIO_PORT}"])
            container.with_env("MINIO_ROOT_USER", credentials.access_key)
            container.with_env("MINIO_ROOT_PASSWORD", credentials.secret_key)
        started = lab.start(container, role="s3-server", alias=S3_ALIAS)
        cid = started.get_wrapped_container().id
        port = lab.host_port(cid, in_port)
        server = cls(
            lab,
            cid,
            f"{'https' if tls else 'http'}://127.0.0.1:{port}",
            credentials,
            endpoint=f"{'https' if tls else 'http'}://{S3_ALIAS}:{in_port}",
            image=image,
        )
        if tls:
            server.ca_file, server.tls_volume = ca_file, tls_volume
            weakref.finalize(lab, _unlink, ca_file)  # lives as long as the run's lab

        def answers() -> bool | None:
            server.client().list_buckets()
            return True

        poll_until(
            answers,
            what=f"the S3 server ({image}) to answer",
            timeout_s=READY_TIMEOUT_S,
            interval_s=0.2,
            retry_on=(botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError),
        )
        if enforce_auth:
            server._enforce_auth()
        return server

    def _iam(self) -> Any:
        from harness.lab.s3_iam import iam_client

        creds = self.credentials
        return iam_client(self.host_endpoint, creds.access_key, creds.secret_key, self.region)

    def _enforce_auth(self) -> None:
        """The harness's own IAM key first (requests are still free), then authentication on."""
        from harness.lab.s3_iam import enforce_auth, harness_key

        self.credentials = S3Credentials(*harness_key(self._iam()))
        enforce_auth(self.host_endpoint)
        self.auth_enforced = True

    def issue_key(self, user: str, bucket: str) -> S3Credentials:
        """A new IAM user with s3:* on ``bucket`` and its access key (a backup job's)."""
        from harness.lab.s3_iam import bucket_key

        return S3Credentials(*bucket_key(self._iam(), user, bucket))

    def new_key(self, user: str) -> S3Credentials:
        """Another access key for the existing IAM ``user`` (a rotation)."""
        from harness.lab.s3_iam import new_key

        return S3Credentials(*new_key(self._iam(), user))

    def delete_key(self, user: str, credentials: S3Credentials) -> None:
        """Delete ``user``'s key ``credentials``: requests signed with it are refused from now."""
        from harness.lab.s3_iam import delete_key

        delete_key(self._iam(), user, credentials.access_key)

    def client(self) -> Any:
        """A boto3 client talking to the server from the harness (127.0.0.1 only)."""
        return s3_client(
            self.host_endpoint, self.credentials, self.region, verify=self.ca_file or None
        )

    def create_bucket(
        self, bucket: str, *, object_lock: bool = False, retention_days: int = 1
    ) -> None:
        """Create ``bucket``; with ``object_lock``: versioned, COMPLIANCE default retention."""
        s3 = self.client()
        try:
            s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=object_lock)
            if object_lock:
                s3.put_object_lock_configuration(
                    Bucket=bucket,
                    ObjectLockConfiguration={
                        "ObjectLockEnabled": "Enabled",
                        "Rule": {
                            "DefaultRetention": {"Mode": "COMPLIANCE", "Days": retention_days}
                        },
                    },
                )
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise InfrastructureError(f"could not create bucket {bucket}: {exc}") from exc

    def env(self, bucket: str) -> dict[str, str]:
        """The environment a command in the lab needs to use ``bucket`` (holds the secret)."""
        return {
            "S3_ENDPOINT_URL": self.endpoint,
            "S3_BUCKET": bucket,
            "AWS_DEFAULT_REGION": self.region,
            **self.credentials.env(),
            **({"AWS_CA_BUNDLE": CA_FILE} if self.tls_volume else {}),
        }


def _tls_volume(lab: Lab, image: str) -> tuple[str, str]:
    """The run's CA and the server's certificate on a new volume of the run; the CA also as
    a file on the host (for the harness's boto3 clients). Returns (volume, host CA file)."""
    bundle = make_tls(hostnames=[S3_ALIAS, "localhost"], ips=["127.0.0.1"], run_id=lab.run_id)
    volume = lab.volume("s3-tls", role="s3-tls")
    written = run_helper(
        lab,
        image=image,
        name="s3-tls",
        mounts={volume: TLS_MOUNT},
        # The key travels in the exec's environment (masked), never in argv.
        script=(
            f'set -e; cd {TLS_MOUNT}; printf "%s" "$RD_TLS_CA" > ca.pem; '
            'printf "%s" "$RD_TLS_CERT" > server.pem; '
            'umask 077; printf "%s" "$RD_TLS_KEY" > server.key; chmod 0644 ca.pem server.pem'
        ),
        env={
            "RD_TLS_CA": bundle.ca_pem,
            "RD_TLS_CERT": bundle.cert_pem,
            "RD_TLS_KEY": bundle.key_pem,
        },
        timeout_s=TLS_SETUP_TIMEOUT_S,
    )
    if not written.ok:
        raise InfrastructureError(f"could not write the run's TLS files: {written.tail(300)}")
    fd, path = tempfile.mkstemp(prefix=f"rd-{lab.run_id}-s3-ca-", suffix=".pem")
    with os.fdopen(fd, "w") as f:
        f.write(bundle.ca_pem)
    return volume, path


def _unlink(path: str) -> None:
    with contextlib.suppress(OSError):  # already gone
        os.unlink(path)
