"""Step libraries of the features in this folder (pytest-bdd binds the scenarios in the test_*.py modules)."""

from features.steps.cda_steps import *  # noqa: F403  (step definitions are fixtures: they must be in scope)
