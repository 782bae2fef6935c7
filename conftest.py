"""Root conftest: the conformance report plugin (reports/report.json, reports/report.html, progress lines).

The step libraries of the features are loaded by features/conftest.py.
"""

pytest_plugins = ["xdsi.report.pytest_plugin"]
