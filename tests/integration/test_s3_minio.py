"""The lab's S3 server as MinIO (`recovery-drill run --s3-image minio/minio`): started by image
kind (``minio server /data`` on port 9000, MINIO_ROOT_USER / MINIO_ROOT_PASSWORD), a bucket
created and an object round trip verified through the store's own metadata. MinIO's image
cannot be pulled on machines without a registry: the test is skipped there, with the reason."""

from __future__ import annotations

import hashlib

import docker
import pytest

from harness.backups.s3store import S3Store
from harness.lab.lab import Lab
from harness.lab.s3 import S3Server
from harness.runner import new_run_id
from harness.scenario.model import Store

MINIO_IMAGE = "minio/minio"


def minio_image(client: docker.DockerClient) -> str | None:
    """A local MinIO server image (any tag), or None."""
    for image in client.images.list(name=MINIO_IMAGE):
        if image.tags:
            return str(image.tags[0])
    return None


def test_a_minio_store_round_trip(client: docker.DockerClient) -> None:
    image = minio_image(client)
    if image is None:
        pytest.skip("no MinIO image on this machine (no registry)")
    body = b"minio round trip\n" * 1000
    with Lab(new_run_id(), client=client) as lab:
        server = S3Server.start(lab, image=image)
        assert server.endpoint == "http://s3:9000"
        server.create_bucket("rd-minio")
        store = S3Store(
            Store(name="minio", kind="s3"),
            "rd-minio",
            server.endpoint,
            server.host_endpoint,
            server.credentials,
        )
        store.client().put_object(
            Bucket="rd-minio", Key="k.dump", Body=body, ChecksumAlgorithm="SHA256"
        )
        facts = store.facts(store.url("k.dump"))
        assert facts.exists and facts.size_bytes == len(body)
        assert facts.sha256 == hashlib.sha256(body).hexdigest()
        assert store.objects()[0][0] == "k.dump"
