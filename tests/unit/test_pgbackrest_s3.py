"""pgBackRest's repository on an S3 store: the options every command gets (the lab's server
over TLS with the run's CA, an external endpoint), the key pair only in the environment, the
scenario rules, and the run's certificates."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from cryptography import x509

from harness.backups.pgbackrest_s3 import s3_repository, set_url
from harness.backups.s3store import S3Store
from harness.engines import get_engine
from harness.engines.base import RecoveryTarget
from harness.engines.collaborators import pgbackrest_of
from harness.engines.postgres.pgbackrest import PgBackRest
from harness.errors import InputError, ScenarioError
from harness.lab.s3 import CA_FILE, TLS_MOUNT, S3Credentials
from harness.lab.tls import make_tls
from harness.scenario.model import Store
from harness.secrets import redact, secret_values
from harness.validation import load_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
SCENARIO = SCENARIOS / "object-storage" / "pgbackrest-s3.yaml"
ACCESS, SECRET = "AKIA0123456789ABCDEF", "s3cr3t-0123456789-abcdefghij"


def lab_store(prefix: str = "pg/prod") -> S3Store:
    return S3Store(
        Store(name="bucket", kind="s3", prefix=prefix),
        "rd-bucket",
        "https://s3:5000",
        "https://127.0.0.1:49153",
        S3Credentials(ACCESS, SECRET),
        ca_file="/tmp/rd-x-s3-ca.pem",
        tls_volume="rd-x-s3-tls",
    )


def external(endpoint: str) -> S3Store:
    spec = Store(name="ext", kind="s3", endpoint_url=endpoint, region="eu-west-1")
    return S3Store(spec, "team-backups", endpoint, endpoint, S3Credentials(ACCESS, SECRET))


def tool_on(store: S3Store) -> PgBackRest:
    tool = pgbackrest_of(get_engine("postgres"))
    tool.s3 = s3_repository(store)
    return tool


def every_command(tool: PgBackRest) -> dict[str, str]:
    push = next(a for a in tool.server_args() if a.startswith("archive_command="))
    return {
        "stanza-create": tool.start_script(),
        "archive-push": push,
        "backup": tool.backup_command("incr"),
        "info": tool.info_command(),
        "verify": tool.verify_command(),
        "expire": tool.expire_command("20261208-010000F"),
        "restore": tool.restore_command(
            label="20261208-010000F", recovery=RecoveryTarget(time="2026-12-08 01:00:05+00")
        ),
        "restore-lsn": tool.restore_command(
            label="20261208-010000F", recovery=RecoveryTarget(lsn="0/3000060"), delta=True
        ),
        "restore-immediate": tool.restore_command(
            label="20261208-010000F", recovery=RecoveryTarget(immediate=True)
        ),
    }


def test_every_command_gets_the_s3_repository_and_no_secret() -> None:
    tool = tool_on(lab_store())
    expected = {
        "--repo1-type=s3",
        "--repo1-path=/pg/prod/pgbackrest",
        "--repo1-s3-bucket=rd-bucket",
        "--repo1-s3-endpoint=s3",
        "--repo1-storage-port=5000",
        "--repo1-s3-uri-style=path",
        "--repo1-s3-region=us-east-1",
        f"--repo1-storage-ca-file={CA_FILE}",
    }
    commands = every_command(tool)
    assert len(commands) == 9
    for verb, command in commands.items():
        words = set(shlex.split(command.partition("=")[2] if verb == "archive-push" else command))
        words |= {w for c in words for w in shlex.split(c) if " " in c}  # su -c '...'
        assert expected <= words, (verb, expected - words)
        assert not any(w.startswith("--repo1-path=/archive") for w in words), verb
        assert ACCESS not in command and SECRET not in command, verb
        assert "verify-tls" not in command, verb  # TLS is verified, never switched off
    # The restore types and --delta are still there.
    assert "--type=time" in commands["restore"] and "--delta" in commands["restore-lsn"]
    assert "--type=immediate" in commands["restore-immediate"]
    # The key pair: only in the environment, under pgBackRest's secure option names, masked.
    assert tool.env() == {
        "PGBACKREST_REPO1_S3_KEY": ACCESS,
        "PGBACKREST_REPO1_S3_KEY_SECRET": SECRET,
    }
    assert set(secret_values(tool.env())) == {ACCESS, SECRET}
    assert (
        redact(f"key {ACCESS} secret {SECRET}", secret_values(tool.env())) == "key *** secret ***"
    )
    assert ACCESS not in repr(tool.s3) and SECRET not in repr(tool.s3)
    assert tool.mounts() == {"rd-x-s3-tls": TLS_MOUNT}


def test_a_volume_repository_is_unchanged() -> None:
    tool = pgbackrest_of(get_engine("postgres"))
    assert "--repo1-path=/archive/pgbackrest" in shlex.split(tool.info_command())
    assert "repo1-type" not in tool.backup_command("full")
    assert tool.env() == {} and tool.mounts() == {}
    assert "mkdir -p /archive/pgbackrest" in tool.start_script()


def test_external_endpoints_not_verified_here() -> None:
    # Options only: no AWS or MinIO endpoint is reachable from the build machines.
    aws = s3_repository(external("https://s3.eu-west-1.amazonaws.com"))
    assert aws.endpoint == "s3.eu-west-1.amazonaws.com" and aws.port == 443
    assert aws.uri_style == "host" and aws.region == "eu-west-1"
    assert aws.ca_file == "" and aws.mounts == ()  # the system's CAs
    assert aws.path == "/pgbackrest"
    minio = s3_repository(external("https://minio.internal:9000"))
    assert (minio.endpoint, minio.port, minio.uri_style) == ("minio.internal", 9000, "path")
    with pytest.raises(InputError, match="TLS only"):
        s3_repository(external("http://minio.internal:9000"))


def test_catalog_paths_are_s3_urls_of_the_set() -> None:
    store = lab_store()
    url = set_url(store, s3_repository(store), "20261208-010000F_20261208-010004I")
    assert url == "s3://rd-bucket/pg/prod/pgbackrest/backup/drill/20261208-010000F_20261208-010004I"
    assert store.env()["AWS_CA_BUNDLE"] == CA_FILE and store.tls_mounts == {
        "rd-x-s3-tls": TLS_MOUNT
    }


def test_the_run_ca_signs_a_certificate_for_the_lab_alias() -> None:
    bundle = make_tls(hostnames=["s3", "localhost"], ips=["127.0.0.1"], run_id="r1")
    ca = x509.load_pem_x509_certificate(bundle.ca_pem.encode())
    cert = x509.load_pem_x509_certificate(bundle.cert_pem.encode())
    cert.verify_directly_issued_by(ca)
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["s3", "localhost"]
    assert "BEGIN PRIVATE KEY" in bundle.key_pem and bundle.key_pem not in repr(bundle)
    other = make_tls(hostnames=["s3"], ips=[], run_id="r2")
    with pytest.raises(Exception):  # noqa: B017 - any verification failure will do
        cert.verify_directly_issued_by(x509.load_pem_x509_certificate(other.ca_pem.encode()))


def problems(tmp_path: Path, old: str, new: str) -> list[str]:
    text = SCENARIO.read_text()
    assert old in text
    path = tmp_path / SCENARIO.name
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return [str(p) for p in caught.value.problems]


def test_the_scenario_validates() -> None:
    s = load_scenario(SCENARIO)
    assert s.topology.archive_tool == "pgbackrest" and s.stores[0].kind == "s3"
    assert [b.type for b in s.backups] == ["full", "incr"]


def line_of(text: str) -> int:
    return SCENARIO.read_text().split(text)[0].count("\n") + 1


def test_what_an_s3_repository_refuses(tmp_path: Path) -> None:
    found = problems(tmp_path, "  archive_tool: pgbackrest\n", "")
    at = line_of("  wal_archive: bucket")
    assert any(
        f":{at}: topology.wal_archive: a WAL archive on an s3 store needs "
        "topology.archive_tool: pgbackrest" in p
        for p in found
    ), found
    found = problems(
        tmp_path,
        "    prefix: pg/prod\n",
        "    prefix: pg/prod\n    endpoint_url: http://minio:9000\n",
    )
    assert any(
        "stores[0].endpoint_url: pgBackRest talks to S3 over TLS only" in p for p in found
    ), found
    found = problems(
        tmp_path, "    prefix: pg/prod\n", "    prefix: pg/prod\n    immutable: true\n"
    )
    assert any("stores[0].immutable: a pgBackRest repository on an Object Lock" in p for p in found)
    # An https endpoint of the team's own is accepted (its options: see above).
    path = tmp_path / "ext.yaml"
    path.write_text(
        SCENARIO.read_text().replace(
            "    prefix: pg/prod\n", "    prefix: pg/prod\n    endpoint_url: https://minio:9000\n"
        )
    )
    assert load_scenario(path).stores[0].endpoint_url == "https://minio:9000"
