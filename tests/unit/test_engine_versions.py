"""Engine versions: ``postgres@17`` in scenarios, plans and --engine; images per version."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.engines import engine_names, get_engine
from harness.engines.versions import VERSIONS, problem_with, split_ref, versioned_refs
from harness.errors import ScenarioError
from harness.plan import load_plan
from harness.scenario.model import sql_for, supports_engine
from harness.validation import load_scenario

ROOT = Path(__file__).resolve().parents[2]


def test_two_major_versions_per_engine_each_with_its_local_build() -> None:
    assert set(VERSIONS["postgres"]) == {"15", "17"}
    assert set(VERSIONS["mariadb"]) == {"10.11", "11.8"}
    locals_ = [v.local_image for vs in VERSIONS.values() for v in vs.values()]
    assert locals_ == [
        "recovery-drill/postgres:15-bookworm",
        "recovery-drill/postgres:17-trixie",
        "recovery-drill/mariadb:10.11-bookworm",
        "recovery-drill/mariadb:11.8-trixie",
    ]
    # Every local build has a recipe in compose/images/.
    build = (ROOT / "compose/images/build.sh").read_text()
    for image in locals_:
        assert image in build or image.replace("recovery-drill/", "") in build, image


@pytest.mark.parametrize(
    ("ref", "default", "local"),
    [
        ("postgres", "postgres:16", "recovery-drill/postgres:15-bookworm"),
        ("postgres@15", "postgres:15", "recovery-drill/postgres:15-bookworm"),
        ("postgres@17", "postgres:17", "recovery-drill/postgres:17-trixie"),
        ("mariadb", "mariadb:11", "recovery-drill/mariadb:10.11-bookworm"),
        ("mariadb@10.11", "mariadb:10.11", "recovery-drill/mariadb:10.11-bookworm"),
        ("mariadb@11.8", "mariadb:11.8", "recovery-drill/mariadb:11.8-trixie"),
    ],
)
def test_a_version_picks_its_images_and_keeps_the_engine_dialect(
    ref: str, default: str, local: str
) -> None:
    engine = get_engine(ref)
    assert (engine.default_image, engine.local_image) == (default, local)
    assert engine.name == split_ref(ref)[0]  # SQL dialect, capabilities: the bare engine
    assert vars(engine)["ref"] == ref
    # A fresh adapter per call: one version never changes another's images.
    assert get_engine(split_ref(ref)[0]).default_image != default or "@" not in ref


def test_refs_are_engine_names_and_unknown_versions_are_named() -> None:
    assert set(versioned_refs()) <= set(engine_names())
    assert "postgres@17" in engine_names() and "mariadb@11.8" in engine_names()
    assert problem_with("postgres@16", engine_names()) == (
        "engine 'postgres' has no version '16' here (versions: postgres@15, postgres@17)"
    )
    assert problem_with("postgres@17", engine_names()) is None


def test_a_scenario_listing_the_bare_engine_runs_on_each_version() -> None:
    assert supports_engine(["postgres", "mariadb"], "postgres@17")
    assert supports_engine(["postgres@17"], "postgres@17")
    assert not supports_engine(["postgres@17"], "postgres@15")
    assert not supports_engine(["mariadb"], "postgres@17")
    assert sql_for({"postgres": ["a"], "postgres@17": ["b"]}, "postgres@17") == ["b"]
    assert sql_for({"postgres": ["a"]}, "postgres@17") == ["a"]


def test_a_versioned_scenario_validates_and_an_unknown_version_is_bad_input(
    tmp_path: Path,
) -> None:
    text = (ROOT / "scenarios/quickstart.yaml").read_text()
    lines = [
        "engines: [postgres@17, mariadb@11.8]" if line.startswith("engines:") else line
        for line in text.splitlines()
    ]
    good = tmp_path / "good.yaml"
    good.write_text("\n".join(lines) + "\n")
    assert load_scenario(good).engines == ["postgres@17", "mariadb@11.8"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("\n".join(lines).replace("postgres@17", "postgres@9") + "\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(bad)
    [problem] = caught.value.problems
    assert problem.line == lines.index("engines: [postgres@17, mariadb@11.8]") + 1
    assert "unknown engine 'postgres@9'" in problem.message


def test_the_nightly_plan_runs_the_quickstart_on_all_four_versions() -> None:
    plan = load_plan(ROOT / "drills/nightly.yaml")
    quick = sorted(d.engine for d in plan.drills if d.scenario.name == "quickstart")
    assert quick == ["mariadb@10.11", "mariadb@11.8", "postgres@15", "postgres@17"]


def test_an_unknown_version_on_the_command_line_is_bad_input(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from harness.cli import app

    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            "run",
            "--quiet",
            "--out",
            str(out),
            "--engine",
            "postgres@16",
            str(ROOT / "scenarios/quickstart.yaml"),
        ],
    )
    assert result.exit_code == 2
    assert "--engine 'postgres@16': expected one of" in result.output
    assert "postgres@17" in result.output and "Traceback" not in result.output
    assert not out.exists() or list(out.iterdir()) == []
