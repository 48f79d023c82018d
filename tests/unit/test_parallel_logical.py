"""The parallel logical paths: MariaDB's dump split per table (run through awk, which the
restore runs in the agent) and the commands chosen by a backup's ``parallel``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from harness.backups.parallel import dump_command, offers_parallel, restore_command
from harness.engines import get_engine
from harness.engines.base import DumpJob
from harness.engines.mariadb.core import SPLIT_DUMP_AWK
from harness.errors import ScenarioError
from harness.validation import load_scenario

DUMP = """-- MariaDB dump 10.19  Distrib 10.11.6-MariaDB
--
-- Host: primary    Database: drill
-- Server version	10.11.6-MariaDB

/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;

--
-- Table structure for table `seed_01`
--

CREATE TABLE `seed_01` (id int);

--
-- Dumping data for table `seed_01`
--

INSERT INTO `seed_01` VALUES (1);

--
-- Table structure for table `writes`
--

CREATE TABLE `writes` (id int);

--
-- Dumping data for table `writes`
--

INSERT INTO `writes` VALUES (2);

--
-- Final view structure for view `v`
--

CREATE VIEW v AS SELECT 1;

-- Dump completed on 2026-12-07 23:00:00
"""


@pytest.mark.skipif(shutil.which("awk") is None, reason="awk is not installed on this machine")
def test_mariadb_dump_splits_into_header_tables_and_the_rest(tmp_path: Path) -> None:
    subprocess.run(
        ["awk", "-v", f"d={tmp_path}", SPLIT_DUMP_AWK], input=DUMP, text=True, check=True
    )
    files = {p.name: p.read_text() for p in tmp_path.iterdir()}
    assert sorted(files) == ["head.sql", "post.sql", "t_1.sql", "t_2.sql"]
    assert "FOREIGN_KEY_CHECKS=0" in files["head.sql"] and "CREATE" not in files["head.sql"]
    assert "CREATE TABLE `seed_01`" in files["t_1.sql"] and "VALUES (1)" in files["t_1.sql"]
    assert "writes" not in files["t_1.sql"]
    assert "CREATE TABLE `writes`" in files["t_2.sql"] and "VALUES (2)" in files["t_2.sql"]
    assert "CREATE VIEW" in files["post.sql"] and "CREATE VIEW" not in files["t_2.sql"]


def test_one_job_is_the_single_stream_and_more_the_parallel_path() -> None:
    for name in ("postgres", "mariadb"):
        engine = get_engine(name)
        assert offers_parallel(engine)
        job = DumpJob(source_host="primary", path="/stores/s/b", password="x", database="d")
        assert dump_command(engine, job, jobs=1) == engine.dump_command(job)
        single = engine.restore_command(path="/stores/s/b", target_host="r")
        assert restore_command(engine, path="/stores/s/b", target_host="r", jobs=1) == single
        assert "4" in restore_command(engine, path="/stores/s/b", target_host="r", jobs=4)
    pg = get_engine("postgres")
    assert "--jobs=3" in dump_command(pg, job, jobs=3)
    assert "pg_restore" in restore_command(pg, path="/p", target_host="r", jobs=3)
    assert "--jobs=3" in restore_command(pg, path="/p", target_host="r", jobs=3)
    assert "xargs -0 -r -P 3" in restore_command(
        get_engine("mariadb"), path="/p", target_host="r", jobs=3
    )
    assert not offers_parallel(get_engine("sqlserver"))


SCENARIO = Path(__file__).parents[1] / "integration" / "scenarios" / "parallel-restore.yaml"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("method: logical", "method: physical"), "parallel applies to logical backups"),
        (("  - name: offsite\n", "  - name: offsite\n    kind: s3\n"), "is an s3 store"),
        (("engines: [postgres, mariadb]", "engines: [sqlserver]"), "parallel_logical"),
    ],
)
def test_parallel_where_there_is_no_parallel_path_is_bad_input(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    text = SCENARIO.read_text(encoding="utf-8")
    assert change[0] in text
    path = tmp_path / "s.yaml"
    path.write_text(text.replace(*change), encoding="utf-8")
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    assert message in str(raised.value)
    load_scenario(SCENARIO)  # the scenario itself is valid
