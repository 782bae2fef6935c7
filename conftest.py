"""Root conftest: pytest-bdd step libraries (xds, dicom, cda) are loaded from here once the scenarios land."""
