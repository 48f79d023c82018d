"""The engine registry: every adapter imports without its driver connecting anywhere, exposes
the Engine protocol, and every engine a scenario or drill plan names resolves."""

from __future__ import annotations

import hashlib
import inspect
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness.engines import REGISTRY, engine_names, get_engine
from harness.engines.base import DumpJob, Engine
from harness.engines.collaborators import TARGET_KINDS, LogArchive, PhysicalBackups, Replication

REPO = Path(__file__).resolve().parents[2]
# Each optional collaborator an engine may hold, as the attribute that holds it.
COLLABORATORS: dict[str, type] = {
    "physical": PhysicalBackups,
    "archive": LogArchive,
    "replication": Replication,
}


def _missing(obj: object, protocol: type) -> list[str]:
    """Members of ``protocol`` that ``obj`` lacks, or whose signature lacks its parameters."""
    attributes = sorted(protocol.__annotations__)
    members = {n: m for n, m in vars(protocol).items() if not n.startswith("_")}
    properties = sorted(n for n, m in members.items() if isinstance(m, property))
    methods = sorted(n for n, m in members.items() if inspect.isfunction(m))
    missing = [a for a in [*attributes, *properties] if not hasattr(obj, a)]
    for method in methods:
        if not callable(getattr(obj, method, None)):
            missing.append(method)
            continue
        wanted = list(inspect.signature(getattr(protocol, method)).parameters)[1:]
        have = inspect.signature(getattr(obj, method)).parameters
        missing += [f"{method}({p})" for p in wanted if p not in have]
    return missing


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_registered_engine_imports_and_exposes_the_protocol(name: str) -> None:
    engine = get_engine(name)
    assert engine.name == name
    missing = _missing(engine, Engine)
    assert not missing, f"{name} lacks {missing}"
    assert isinstance(engine.port, int) and engine.datadir.startswith("/")
    assert engine.default_image and engine.datadir_marker


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_collaborator_an_engine_holds_implements_its_protocol(name: str) -> None:
    engine = get_engine(name)
    for attribute, protocol in COLLABORATORS.items():
        part = getattr(engine, attribute)
        if part is None:
            continue  # the engine lacks the capability, honestly
        missing = _missing(part, protocol)
        assert not missing, f"{name}.{attribute} lacks {missing}"
    if engine.archive is not None:
        assert engine.archive.target_kinds <= TARGET_KINDS


def test_only_the_depth_engines_hold_collaborators() -> None:
    held = {
        name: sorted(a for a in COLLABORATORS if getattr(get_engine(name), a) is not None)
        for name in REGISTRY
    }
    assert held == {
        "postgres": ["archive", "physical", "replication"],
        "mariadb": ["archive", "physical", "replication"],
        "mysql": [],
        "sqlserver": [],
    }


def test_adapters_import_no_optional_driver() -> None:
    # In a fresh interpreter: importing every adapter must not import pyodbc (optional).
    code = (
        "import sys; from harness.engines import REGISTRY, get_engine; "
        "[get_engine(n) for n in REGISTRY]; print('pyodbc' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_adapters_import_nothing_of_the_scenario_package() -> None:
    # Engines seed from harness.dataset.DatasetSpec: no import cycle with harness.scenario.
    code = (
        "import sys; from harness.engines import REGISTRY, get_engine; "
        "[get_engine(n) for n in REGISTRY]; "
        "print(sorted(m for m in sys.modules if m.startswith('harness.scenario')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_engines_without_a_local_recipe_say_so() -> None:
    assert get_engine("mariadb").local_image == "recovery-drill/mariadb:10.11-bookworm"
    assert get_engine("mysql").local_image is None
    assert get_engine("sqlserver").local_image is None


def _named_engines() -> list[tuple[str, str]]:
    found = []
    for path in sorted([*(REPO / "scenarios").rglob("*.yaml"), *(REPO / "drills").rglob("*.yaml")]):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for engine in data.get("engines", []) or []:
            found.append((str(path.relative_to(REPO)), engine))
    return found


def test_every_engine_named_in_scenarios_and_plans_resolves() -> None:
    named = _named_engines()
    assert named, "no scenario names an engine"
    unknown = [f"{path}: {engine}" for path, engine in named if engine not in engine_names()]
    assert not unknown, f"engines not in the registry: {unknown}"
    for _, engine in named:
        get_engine(engine)


# -- MariaDB / MySQL: commands and classification, no server needed ---------------------------
def test_mariadb_dump_hides_failure_only_without_pipefail() -> None:
    engine = get_engine("mariadb")
    job = DumpJob(source_host="primary", path="/stores/s/a.dump.gz", password="pw", database="db")
    strict = engine.dump_command(job)
    assert strict.startswith("set -o pipefail; ")
    assert "; mariadb-dump --single-transaction" in strict
    assert strict.endswith("| gzip -1 > /stores/s/a.dump.gz")
    loose = engine.dump_command(DumpJob("primary", "/x.gz", "pw", "db", pipefail=False))
    assert "pipefail" not in loose
    assert "pw" not in strict.replace(engine.flavor.dump, "") and "pw" not in loose
    assert engine.tool_env() == {"MYSQL_PWD": engine.credentials.password}
    assert engine.tool_env(password="stale") == {"MYSQL_PWD": "stale"}
    assert " mariadb --batch " in engine.restore_command(path="/x.gz", target_host="restored-1")


def test_mysql_flavor_uses_mysql_tools() -> None:
    from harness.engines.mariadb.flavor import MARIADB, MYSQL, flavor_for_image, flavor_for_version

    engine = get_engine("mysql")
    command = engine.dump_command(DumpJob("primary", "/x.gz", "pw", "db"))
    options = "--single-transaction --no-tablespaces --routines --events --set-gtid-purged=OFF"
    assert f" mysqldump {options} " in command
    assert " mysql --batch " in engine.restore_command(path="/x.gz", target_host="r")
    assert flavor_for_image("mysql:8", default=MARIADB) is MYSQL
    assert flavor_for_image("recovery-drill/mariadb:10.11-bookworm", default=MYSQL) is MARIADB
    assert flavor_for_image("registry.local/db:1", default=MYSQL) is MYSQL
    assert flavor_for_version("5.5.5-10.11.19-MariaDB-0+deb12u1") is MARIADB
    assert flavor_for_version("8.4.3") is MYSQL


# -- SQL Server: the pieces that need no server -------------------------------------------------
def test_the_tsql_hash_arithmetic_equals_the_python_reference() -> None:
    from harness.dataset import row_hash

    for text in ("1|42|0.50|alpha bravo 7|2020-01-01", "x", "", "99|1|99999.99|zulu zulu 0|2025"):
        digest = hashlib.md5(text.encode(), usedforsecurity=False).digest()
        # CAST(SUBSTRING(h, 1, 7) AS BIGINT) * 16 + CAST(SUBSTRING(h, 8, 1) AS INT) / 16
        assert int.from_bytes(digest[:7], "big") * 16 + digest[7] // 16 == row_hash(text)


class _FakeCursor:
    """Result sets as pyodbc hands them out: one per statement/message batch, errors late."""

    def __init__(self, sets: list[list[tuple[object, ...]] | Exception | None]) -> None:
        self.sets = sets
        self.position = 0
        self.closed = False

    @property
    def description(self) -> object:
        current = self.sets[self.position]
        return [("c",)] if isinstance(current, list) else None

    def execute(self, sql: str, *params: object) -> _FakeCursor:
        self._raise_if_error()
        return self

    def fetchall(self) -> list[tuple[object, ...]]:
        current = self.sets[self.position]
        assert isinstance(current, list)
        return current

    def nextset(self) -> bool:
        self.position += 1
        if self.position >= len(self.sets):
            return False
        self._raise_if_error()
        return True

    def _raise_if_error(self) -> None:
        current = self.sets[self.position]
        if isinstance(current, Exception):
            raise current

    def close(self) -> None:
        self.closed = True


class _FakeConnection:
    def __init__(self, cursor: _FakeCursor) -> None:
        self._cursor = cursor

    def cursor(self) -> _FakeCursor:
        return self._cursor


def test_run_batch_raises_an_error_that_arrives_in_a_later_result_set() -> None:
    from harness.engines.sqlserver.tsql import run_batch

    failure = RuntimeError("[42000] BACKUP DATABASE is terminating abnormally. (3013)")
    cursor = _FakeCursor([None, None, failure])  # progress messages first, then the error
    with pytest.raises(RuntimeError, match="terminating abnormally"):
        run_batch(_FakeConnection(cursor), "BACKUP DATABASE [drill] TO DISK = N'/nope/x.bak'")
    assert cursor.closed


def test_run_batch_returns_every_result_set_with_rows() -> None:
    from harness.engines.sqlserver.tsql import run_batch

    cursor = _FakeCursor([None, [(1,), (2,)], None, [("a",)]])
    assert run_batch(_FakeConnection(cursor), "SELECT ...") == [[(1,), (2,)], [("a",)]]


def test_sqlserver_connects_with_autocommit_and_the_newest_odbc_driver(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from harness.engines.base import Endpoint

    calls: list[tuple[str, dict[str, object]]] = []

    class FakeConnection:
        timeout = 0

    class FakePyodbc:
        Error = Exception

        @staticmethod
        def drivers() -> list[str]:
            return ["ODBC Driver 17 for SQL Server", "ODBC Driver 18 for SQL Server", "SQLite3"]

        @staticmethod
        def connect(dsn: str, **kwargs: object) -> FakeConnection:
            calls.append((dsn, kwargs))
            return FakeConnection()

    monkeypatch.setitem(sys.modules, "pyodbc", FakePyodbc)
    engine = get_engine("sqlserver")
    conn = engine.connect(Endpoint("127.0.0.1", 14330), timeout_s=3)
    ((dsn, kwargs),) = calls
    assert kwargs["autocommit"] is True
    assert "DRIVER={ODBC Driver 18 for SQL Server};SERVER=tcp:127.0.0.1,14330;" in dsn
    assert "DATABASE={drill};UID={sa};" in dsn and "TrustServerCertificate=yes" in dsn
    assert conn.timeout > 0


def test_sqlserver_without_an_odbc_driver_says_what_to_install() -> None:
    from harness.engines.sqlserver.tsql import odbc_driver
    from harness.errors import EngineUnavailable

    with pytest.raises(EngineUnavailable, match="msodbcsql18"):
        odbc_driver(["SQLite3"])


def test_sqlserver_restore_moves_files_to_linux_paths_and_stops_at_a_time() -> None:
    import datetime as dt

    from harness.engines.sqlserver import SqlServerEngine
    from harness.engines.sqlserver.native import BackupFile

    engine = SqlServerEngine()
    files = [
        BackupFile("drill", "C:\\Data\\drill.mdf", "D"),
        BackupFile("drill_log", "C:\\Data\\drill_log.ldf", "L"),
    ]
    stop = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    full, *logs = engine.restore_statements(
        files, full="/b/full.bak", logs=["/b/l1.trn", "/b/l2.trn"], stop_at=stop
    )
    assert "MOVE N'drill' TO N'/var/opt/mssql/data/drill_drill.mdf'" in full
    assert "MOVE N'drill_log' TO N'/var/opt/mssql/data/drill_drill_log.ldf'" in full
    assert "WITH" in full and "CHECKSUM" in full and full.endswith("NORECOVERY")
    assert [s.rsplit(", ", 1)[-1] for s in logs] == ["NORECOVERY", "RECOVERY"]
    assert all("STOPAT = '2026-01-02T03:04:05'" in s for s in logs)


@pytest.mark.parametrize(
    ("sqlstate", "definite"),
    [("23000", True), ("42S02", True), ("40001", True), ("08S01", False), ("HYT00", False)],
)
def test_sqlserver_definite_failures_by_sqlstate(sqlstate: str, definite: bool) -> None:
    exc = Exception(sqlstate, "message")
    assert get_engine("sqlserver").is_definite_failure(exc) is definite


def test_sqlserver_dump_hides_failure_only_without_pipefail() -> None:
    engine = get_engine("sqlserver")
    strict = engine.dump_command(DumpJob("primary", "/stores/s/a.gz", "pw", "drill"))
    assert strict.startswith("set -o pipefail; ") and "( set -e;" in strict
    assert strict.endswith("| gzip -1 > /stores/s/a.gz")
    assert "pipefail" not in engine.dump_command(DumpJob("p", "/x", "pw", "d", pipefail=False))
