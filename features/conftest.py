"""Step libraries of the features in this folder (pytest-bdd binds the scenarios in the test_*.py modules)."""

from features.processus.conftest import pytest_configure  # noqa: F401  (the process tags, as markers)
from features.steps.cda_steps import *  # noqa: F403  (step definitions are fixtures: they must be in scope)
from features.steps.fixtures import *  # noqa: F403
from features.steps.imaging_steps import *  # noqa: F403
from features.steps.xds_steps import *  # noqa: F403
