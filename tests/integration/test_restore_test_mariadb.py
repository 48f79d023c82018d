"""`recovery-drill restore-test --engine mariadb` of a dump the test made itself with
mariadb-dump, in a plain MariaDB container started outside the harness (no lab, no drill: the
way a team's server would make it), and of a truncated copy: the first passes with the team's
checks, timed (fetch, restore, verified read and write, RTO); the second exits 1 with the
mariadb client's complaint named."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from harness.report.history import History
from harness.report.history.external import catalog

from .test_restore_test import CHECKS, ROWS, cli

MARIADB_IMAGE = "recovery-drill/mariadb:10.11-bookworm"
READY_TIMEOUT_S = 60.0


@pytest.fixture()
def plain_mariadb(client: docker.DockerClient) -> Iterator[tuple[object, str]]:
    """A MariaDB server in a container of the test's own (no network, no harness labels),
    removed afterwards; yields the container and its root password."""
    import docker.errors

    try:
        client.images.get(MARIADB_IMAGE)
    except docker.errors.ImageNotFound:
        pytest.fail(f"{MARIADB_IMAGE} is missing: build it with `make images`")
    password = secrets.token_urlsafe(16)
    container = client.containers.run(
        MARIADB_IMAGE,
        detach=True,
        environment={"MARIADB_ROOT_PASSWORD": password, "MARIADB_DATABASE": "shop"},
        network_mode="none",
    )
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:  # the image's init server listens on a socket only: TCP means ready
            probe = container.exec_run(
                ["mariadb", "--protocol=tcp", "-h", "127.0.0.1", "-uroot", "-e", "SELECT 1"],
                environment={"MYSQL_PWD": password},
            )
            if probe.exit_code == 0:
                break
            assert time.monotonic() < deadline, f"MariaDB not ready: {probe.output!r}"
            time.sleep(0.3)
        yield container, password
    finally:
        container.remove(force=True, v=True)


def test_restore_test_of_a_mariadb_dump_and_of_its_truncated_copy(
    tmp_path: Path, plain_mariadb: tuple[object, str]
) -> None:
    container, password = plain_mariadb
    script = (
        "mariadb --protocol=tcp -h 127.0.0.1 -uroot shop -e '"
        "CREATE TABLE rt_customer (id INT PRIMARY KEY, name CHAR(32)); "
        f"INSERT INTO rt_customer SELECT seq, md5(seq) FROM seq_1_to_{ROWS}' && "
        "mariadb-dump --protocol=tcp -h 127.0.0.1 -uroot --single-transaction shop"
    )
    made = container.exec_run(  # type: ignore[attr-defined]
        ["bash", "-c", script], environment={"MYSQL_PWD": password}, demux=True
    )
    assert made.exit_code == 0, made.output[1]
    dump = tmp_path / "shop.sql"
    dump.write_bytes(made.output[0])
    text = dump.read_text()
    assert "-- MariaDB dump" in text and "INSERT INTO `rt_customer`" in text
    checks = tmp_path / "checks.yaml"
    checks.write_text(CHECKS)
    history = tmp_path / "history.sqlite"

    good = cli(
        "restore-test", str(dump), "--engine", "mariadb", "--checks", str(checks),
        "--rto-s", "120", "--json", str(tmp_path / "good.json"), "--history", str(history),
    )  # fmt: skip
    assert good.returncode == 0, good.stdout + good.stderr
    result = json.loads((tmp_path / "good.json").read_text())
    assert result["status"] == "pass" and result["verification"] == "restore_tested"
    assert result["engine"] == "mariadb" and result["kind"] == "dump"
    assert [c["passed"] for c in result["data_checks"]] == [True, True]
    assert result["data_checks"][0]["actual"] == str(ROWS)
    for figure in ("fetch_s", "restore_s", "verify_s", "rto_s"):
        assert result[figure] is not None and result[figure] > 0, figure
    print(  # the figures the closing note quotes (pytest -s shows them)
        f"mariadb restore-test of {result['size_bytes']} bytes: fetch {result['fetch_s']} s, "
        f"restore {result['restore_s']} s, verified read+write {result['verify_s']} s, "
        f"RTO {result['rto_s']} s"
    )

    truncated = tmp_path / "shop-truncated.sql"
    truncated.write_bytes(dump.read_bytes()[: dump.stat().st_size // 2])
    bad = cli(
        "restore-test", str(truncated), "--engine", "mariadb",
        "--json", str(tmp_path / "bad.json"), "--history", str(history),
    )  # fmt: skip
    assert bad.returncode == 1, bad.stdout + bad.stderr
    failed = json.loads((tmp_path / "bad.json").read_text())
    assert failed["status"] == "fail" and failed["verification"] == "checksum_matches"
    assert failed["reason"].startswith("restore exited"), failed["reason"]
    assert "ERROR" in failed["reason"] and "Traceback" not in bad.stderr
    print(f"truncated copy: exit {bad.returncode}, reason: {failed['reason']}")

    with History.open(history) as store:
        rows = {r.name: r for r in catalog(store.db)}
    assert rows["shop.sql"].verification == "restore_tested"
    assert rows["shop.sql"].last_restorable_at == result["ended_at"]
    assert rows["shop-truncated.sql"].last_status == "fail"
    assert rows["shop-truncated.sql"].last_restorable_at is None
