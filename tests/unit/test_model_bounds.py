"""Every number a scenario or plan may give is strict, finite and bounded above; names in lists
are unique; PITR times are parsed at validation. The walk over the models makes sure no new
field escapes these rules."""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any

import pytest
from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from harness import plan
from harness.errors import ScenarioError
from harness.scenario import model
from harness.validation import load_scenario

QUICKSTART = Path(__file__).resolve().parents[2] / "scenarios" / "quickstart.yaml"


def _models() -> list[type[BaseModel]]:
    found = [m for m in vars(model).values() if isinstance(m, type) and issubclass(m, model.Model)]
    found += [plan.ObjectivesOverride, plan.PlanEntry, plan.Plan]
    return [m for m in found if m is not model.Model]


def _numeric_leaves(annotation: Any, metadata: list[Any]) -> list[tuple[type, list[Any]]]:
    """(int or float, the constraints that apply to it) for every number inside a type."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        inner, *extra = typing.get_args(annotation)
        flat: list[Any] = []
        for item in extra:
            flat.extend(item.metadata if isinstance(item, FieldInfo) else [item])
            if isinstance(item, FieldInfo):
                flat.append(item)
        return _numeric_leaves(inner, [*metadata, *flat])
    if origin in (typing.Union, types.UnionType, list, dict, tuple):
        return [leaf for arg in typing.get_args(annotation) for leaf in _numeric_leaves(arg, [])]
    if annotation in (int, float):
        return [(annotation, metadata)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return []  # walked as a model of its own
    return []


def _number_fields() -> list[tuple[str, type, list[Any]]]:
    out = []
    for m in _models():
        for name, info in m.model_fields.items():
            constraints = [*info.metadata, info]
            for kind, metadata in _numeric_leaves(info.annotation, []):
                out.append((f"{m.__name__}.{name}", kind, [*constraints, *metadata]))
    return out


NUMBER_FIELDS = _number_fields()


def test_the_walk_finds_the_numbers() -> None:
    names = {name for name, _, _ in NUMBER_FIELDS}
    assert {"Kill.at_s", "Dataset.seed", "PitrTarget.offset_s", "Objectives.rto_s"} <= names
    assert len(NUMBER_FIELDS) >= 30


@pytest.mark.parametrize(("field", "kind", "metadata"), NUMBER_FIELDS, ids=lambda v: str(v))
def test_every_number_is_strict_finite_and_bounded(
    field: str, kind: type, metadata: list[Any]
) -> None:
    infos = [m for m in metadata if isinstance(m, FieldInfo)]
    assert any(i._attributes_set.get("strict") for i in infos) or any(
        getattr(m, "strict", None) for m in metadata
    ), f"{field} accepts booleans as numbers"
    uppers = [m for m in metadata if isinstance(m, Le | Lt)]
    assert uppers, f"{field} has no upper bound"
    assert [m for m in metadata if isinstance(m, Ge | Gt)], f"{field} has no lower bound"
    if kind is float:
        assert any(i._attributes_set.get("allow_inf_nan") is False for i in infos) or any(
            getattr(m, "allow_inf_nan", None) is False for m in metadata
        ), f"{field} accepts NaN or infinity"


def _problems(tmp_path: Path, old: str, new: str) -> list[str]:
    text = QUICKSTART.read_text()
    assert old in text
    path = tmp_path / "s.yaml"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return [f"{p.path}: {p.message}" for p in caught.value.problems]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (".inf", "Input should be a finite number"),
        (".nan", "Input should be a finite number"),
        ("true", "Input should be a valid number"),
        ("1.0e+9", "Input should be less than or equal to 3600"),
    ],
)
def test_bad_moments_are_refused(tmp_path: Path, value: str, message: str) -> None:
    assert _problems(tmp_path, "at_s: 5", f"at_s: {value}") == [f"timeline[0].at_s: {message}"]


def test_huge_integers_are_refused(tmp_path: Path) -> None:
    [problem] = _problems(tmp_path, "seed: 42", "seed: " + "9" * 32)
    assert problem.startswith("dataset.seed: Input should be less than or equal to")


def test_an_engine_listed_twice_is_refused(tmp_path: Path) -> None:
    assert _problems(tmp_path, "engines: [postgres,", "engines: [postgres, postgres,") == [
        "engines: 'postgres' is listed twice"
    ]


def test_a_pitr_time_is_parsed_at_validation() -> None:
    with pytest.raises(ValueError, match="not an ISO 8601 time"):
        model.PitrTarget(time="not a time")
    assert model.PitrTarget(time="2026-12-01T10:00:00+00:00").time == "2026-12-01T10:00:00+00:00"
