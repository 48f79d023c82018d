"""Scenario files: YAML in, typed and cross-checked model out."""

from harness.scenario.loader import load_scenario, load_scenarios
from harness.scenario.model import Scenario

__all__ = ["Scenario", "load_scenario", "load_scenarios"]
