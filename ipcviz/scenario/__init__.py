"""The scenario authoring API: ``from ipcviz.scenario import Scenario``. See docs/scenarios.md."""

from ipcviz.bytefmt import readable
from ipcviz.scenario.api import Check, Context, Process, Run, Scenario, Step, Undecided

__all__ = ["Check", "Context", "Process", "Run", "Scenario", "Step", "Undecided", "readable"]
