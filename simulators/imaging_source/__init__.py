"""The imaging-source simulator (IHE XDS-I.b Imaging Document Source): a DICOM AE (C-ECHO, C-FIND, C-GET,
C-MOVE, C-STORE), the RAD-69 endpoint and WADO-RS, over one index of studies (DESIGN §4).

* :mod:`.index` — the store: studies/series/instances in SQLite (WAL) or PostgreSQL, files under a directory;
* :mod:`.dimse` — the pynetdicom AE, its handlers, and TCP_NODELAY on every socket;
* :mod:`.http` — the Starlette app: ``POST /rad69`` and ``/dicomweb/studies/...``;
* :mod:`.server` — :func:`~.server.serve_imaging_source` (both servers, a banner of every endpoint) and
  :func:`~.server.start_imaging_source` (the same in threads, for tests and scenarios).
"""

from __future__ import annotations
