"""Binds the features of the collaborative processes (features/processus/*.feature, volet §3.1 – §3.7)."""

from __future__ import annotations

from pytest_bdd import scenarios

scenarios("processus")
