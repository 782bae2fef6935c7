"""xdsi: conformance harness and simulators for the CI-SIS imaging-sharing specifications."""

from pathlib import Path

__version__ = "0.1.0"

#: The checkout holding `schemas/` and `valuesets/` (xdsi runs from its checkout, installed editable).
ROOT = Path(__file__).resolve().parent.parent
