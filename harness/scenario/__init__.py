"""Scenario files: YAML in, a typed model out (engines and faults add their checks in
harness.validation, which is what loads a scenario file)."""

from harness.scenario.model import Scenario

__all__ = ["Scenario"]
