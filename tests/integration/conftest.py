"""Integration fixtures: a reachable Docker engine, one PostgreSQL server per session, drills
run once per session and checked by several test files (``shared_drills``), and a final check
that no test left a recovery-drill container, network or volume behind."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest

import harness.lab  # noqa: F401  (sets the testcontainers defaults: 127.0.0.1, no Ryuk)
from harness.engines import get_engine
from harness.engines.base import Credentials, Endpoint, Engine
from harness.engines.mariadb.core import MariaDBCore
from harness.engines.postgres import PostgresEngine
from harness.lab.docker_client import docker_client
from harness.lab.images import resolve_image
from harness.lab.lab import RUN_LABEL, Lab, remove_resources
from harness.lab.labels import JOURNAL_LABEL, OWNER, OWNER_LABEL
from harness.runner import Drill, DrillResult, new_run_id
from harness.server.node import Node, provision
from harness.validation import load_scenario

from .truth import run_tapped

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "scenarios"

# Distinctive enough that no other text contains them by chance: every shared drill's servers
# get them, and test_secrets.py checks that none is written anywhere.
PG_PASSWORD = "PgSecret-4d1c9e_unit"
MARIADB_PASSWORD = "MdbSecret-8b27f0_unit"
MARIADB_ROOT_PASSWORD = "MdbRoot-3a96c5_unit"
PASSWORDS = (PG_PASSWORD, MARIADB_PASSWORD, MARIADB_ROOT_PASSWORD)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def client() -> Iterator[docker.DockerClient]:
    """The Docker engine; integration tests fail (not skip) without one: `make test` starts it."""
    yield docker_client()


def _lab_resources(client: docker.DockerClient) -> dict[str, dict[str, str]]:
    """Every container, network and volume named like a lab's (``rd-...``) or carrying the
    owner label: kind and name -> labels."""
    found: dict[str, dict[str, str]] = {}
    owned = {"label": f"{OWNER_LABEL}={OWNER}"}
    for c in client.containers.list(all=True, sparse=True):
        name = (c.attrs.get("Names") or ["?"])[0].lstrip("/")
        labels = c.attrs.get("Labels") or {}
        if name.startswith("rd-") or OWNER_LABEL in labels:
            found[f"container {name}"] = labels
    for n in client.networks.list():
        if n.name.startswith("rd-"):
            found[f"network {n.name}"] = n.attrs.get("Labels") or {}
    for v in [*client.volumes.list(filters=owned), *client.volumes.list()]:
        if v.name.startswith("rd-") or OWNER_LABEL in (v.attrs.get("Labels") or {}):
            found[f"volume {v.name}"] = v.attrs.get("Labels") or {}
    return found


@pytest.fixture(scope="session", autouse=True)
def nothing_left_behind(
    client: docker.DockerClient, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """After the session, none of the runs this process opened may have left a container,
    network or volume behind, nor may the drills the tests ran in subprocesses (the CLI tests:
    their resources name a journal under this session's temporary folder); no resource named
    like a lab's may lack the owner label, and no anonymous volume (an image's data VOLUME)
    may have been orphaned. Other processes' runs (a concurrent drill) are never touched."""
    dangling = {"dangling": True}
    before = {v.name for v in client.volumes.list(filters=dangling)}
    existed = set(_lab_resources(client))
    yield
    left: list[str] = []
    for run_id in sorted(Lab.opened_run_ids):
        mine = {"label": f"{RUN_LABEL}={run_id}"}
        left += [c.name for c in client.containers.list(all=True, filters=mine)]
        left += [n.name for n in client.networks.list(filters=mine)]
        left += [v.name for v in client.volumes.list(filters=mine)]
        remove_resources(client, run_id=run_id)
    session_tmp = str(tmp_path_factory.getbasetemp().resolve())
    new = {k: v for k, v in _lab_resources(client).items() if k not in existed}
    unlabelled = sorted(k for k, labels in new.items() if OWNER_LABEL not in labels)
    from_subprocesses = sorted(
        k for k, labels in new.items() if labels.get(JOURNAL_LABEL, "").startswith(session_tmp)
    )
    for run_id in sorted({new[k][RUN_LABEL] for k in from_subprocesses if RUN_LABEL in new[k]}):
        remove_resources(client, run_id=run_id)
    orphans = [v.name for v in client.volumes.list(filters=dangling) if v.name not in before]
    assert not left, f"tests left recovery-drill resources behind: {left}"
    assert not from_subprocesses, f"drills run by the tests left resources: {from_subprocesses}"
    assert not unlabelled, f"resources named like a lab's without labels: {unlabelled}"
    assert not orphans, f"tests orphaned anonymous volumes: {orphans}"


@pytest.fixture(scope="session")
def postgres_engine() -> Engine:
    return get_engine("postgres")


@pytest.fixture(scope="session")
def postgres_image(client: docker.DockerClient, postgres_engine: Engine) -> str:
    e = postgres_engine
    return resolve_image(
        client,
        engine=e.name,
        requested=os.environ.get("RECOVERY_DRILL_POSTGRES_IMAGE"),
        default=e.default_image,
        local_build=e.local_image,
    ).name


@pytest.fixture(scope="session")
def session_lab(client: docker.DockerClient) -> Iterator[Lab]:
    with Lab(new_run_id(), client=client) as lab:
        yield lab


@pytest.fixture(scope="session")
def postgres_node(session_lab: Lab, postgres_engine: Engine, postgres_image: str) -> Node:
    """One PostgreSQL server for every engine-level test of the session."""
    return provision(session_lab, postgres_engine, image=postgres_image, name="pg-session")


@pytest.fixture(scope="session")
def postgres_endpoint(session_lab: Lab, postgres_engine: Engine, postgres_node: Node) -> Endpoint:
    return postgres_node.endpoint(session_lab, postgres_engine)


# -- drills shared between test files ----------------------------------------------------------
@dataclass(frozen=True)
class SharedRun:
    """A drill run once for the session (its survivors tapped, see truth.py) and every log
    record the process emitted while it ran, at DEBUG level."""

    result: DrillResult
    log: str


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


class SharedDrills:
    """Drills that several test files check, each run once per session on first use (the
    same scenario file on the same engine gives the same path through the harness; running it
    again per file only costs time). Every shared drill runs with distinctive passwords
    (PASSWORDS) and its log captured, so that test_secrets.py can check that none is written."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._tmp = tmp_path_factory
        self._runs: dict[tuple[Path, str], SharedRun] = {}

    def run(self, path: Path, engine: str) -> SharedRun:
        key = (path.resolve(), engine)
        if key not in self._runs:
            self._runs[key] = self._run(key[0], engine)
        return self._runs[key]

    def _run(self, path: Path, engine: str) -> SharedRun:
        out = self._tmp.mktemp(f"shared-{path.stem}-{engine}")
        collect, root = _Collect(), logging.getLogger()
        level = root.level
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(
                PostgresEngine, "default_credentials", Credentials("drill", PG_PASSWORD, "drill")
            )
            mp.setattr(
                MariaDBCore, "default_credentials", Credentials("drill", MARIADB_PASSWORD, "drill")
            )
            mp.setattr(MariaDBCore, "default_root_password", MARIADB_ROOT_PASSWORD)
            root.addHandler(collect)
            root.setLevel(logging.DEBUG)
            try:
                drill = Drill(load_scenario(path), source=path, engine=engine, out_dir=out)
                result = run_tapped(drill)
            finally:
                root.removeHandler(collect)
                root.setLevel(level)
        return SharedRun(result, "\n".join(collect.lines))


@pytest.fixture(scope="session")
def shared_drills(tmp_path_factory: pytest.TempPathFactory) -> SharedDrills:
    return SharedDrills(tmp_path_factory)
