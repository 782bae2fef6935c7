"""Start the imaging-source simulator: the DICOM AE and the HTTP app (RAD-69, WADO-RS) over one index.

    xdsi serve imaging-source [--host 127.0.0.1] [--dicom-port 11112] [--http-port 8081] [--aet XDSI_SOURCE]
                              [--studies DIR] [--move-destination AET=HOST:PORT ...] [--store URL]

:func:`serve_imaging_source` runs until interrupted and prints, first, every endpoint, the AE title and the
Retrieve Location UID (the RAD-69 repositoryUniqueId to put in KOS manifests). :func:`start_imaging_source`
starts the same in threads and returns a :class:`RunningImagingSource` (tests, scenarios, ``xdsi serve all``).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import sys
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from simulators.imaging_source.dimse import DEFAULT_AET, DicomServer, DicomSource, parse_move_destination
from simulators.imaging_source.http import create_app
from simulators.imaging_source.index import ImagingIndex
from simulators.registry.server import RunningServer, TlsConfig, base_url, start_in_thread
from xdsi.journal import Journal

log = logging.getLogger("xdsi.imaging_source")

DEFAULT_DICOM_PORT = 11112
DEFAULT_HTTP_PORT = 8081


@dataclass
class RunningImagingSource:
    """Both servers of a running imaging source, and what a peer needs to reach them."""

    index: ImagingIndex
    dicom: DicomServer
    http: RunningServer | None
    host: str
    loaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    _own_index: bool = False

    @property
    def ae_title(self) -> str:
        return self.dicom.ae_title

    @property
    def dicom_port(self) -> int:
        return self.dicom.port

    @property
    def http_url(self) -> str:
        return self.http.url if self.http is not None else ""

    @property
    def rad69_url(self) -> str:
        return f"{self.http_url}/rad69"

    @property
    def wado_rs_url(self) -> str:
        return f"{self.http_url}/dicomweb"

    @property
    def retrieve_location_uid(self) -> str:
        return self.index.retrieve_location_uid

    def banner(self) -> str:
        return banner(
            self.index,
            self.ae_title,
            self.host,
            self.dicom_port,
            self.http_url,
            self.dicom.source.move_destinations,
            self.loaded,
            self.skipped,
        )

    def stop(self) -> None:
        try:
            if self.http is not None:
                self.http.stop()
        finally:
            try:
                self.dicom.stop()
            finally:
                if self._own_index:
                    self.index.close()


def banner(
    index: ImagingIndex,
    aet: str,
    host: str,
    dicom_port: int,
    http_url: str,
    move_destinations: Mapping[str, tuple[str, int]],
    loaded: Sequence[str] = (),
    skipped: Sequence[str] = (),
) -> str:
    studies, series, instances = index.counts()
    p = "xdsi imaging-source:"
    lines = [
        f"{p} DICOM AE {aet} on {host}:{dicom_port} (C-ECHO, C-FIND, C-GET, C-MOVE, C-STORE)",
    ]
    if http_url:
        lines += [
            f"{p} RAD-69 Retrieve Imaging Document Set {http_url}/rad69",
            f"{p} WADO-RS {http_url}/dicomweb",
        ]
    lines.append(f"{p} Retrieve AE Title {aet}")
    lines.append(f"{p} Retrieve Location UID (RAD-69 repositoryUniqueId) {index.retrieve_location_uid}")
    for dest, (h, port) in sorted(move_destinations.items()):
        lines.append(f"{p} C-MOVE destination {dest} = {h}:{port}")
    lines.append(f"{p} store {index.store_url}, files {index.files_dir}")
    lines.append(f"{p} {studies} studies, {series} series, {instances} instances")
    if loaded:
        lines.append(f"{p} loaded {', '.join(loaded)}")
    for note in skipped[:20]:
        lines.append(f"{p} skipped {note}")
    if len(skipped) > 20:
        lines.append(f"{p} ... and {len(skipped) - 20} more files skipped")
    return "\n".join(lines) + "\n"


def _dicom_ssl(tls: TlsConfig | None) -> ssl.SSLContext | None:
    if tls is None:
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tls.cert_file, tls.key_file)
    if tls.ca_file:
        ctx.load_verify_locations(tls.ca_file)
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def open_index(
    store: str | None = None,
    files_dir: str | Path | None = None,
    retrieve_location_uid: str | None = None,
    studies: Sequence[str | Path] = (),
) -> tuple[ImagingIndex, list[str], list[str]]:
    """The index, with the DICOM files under each of ``studies`` loaded; (index, loaded dirs, skipped notes)."""
    index = ImagingIndex(store, files_dir, retrieve_location_uid=retrieve_location_uid)
    loaded: list[str] = []
    skipped: list[str] = []
    for directory in studies:
        added, notes = index.import_directory(directory)
        if added:
            loaded.append(f"{directory} ({len(added)})")
        skipped += notes
    return index, loaded, skipped


def _with_studies(
    index: ImagingIndex | None,
    store: str | None,
    files_dir: str | Path | None,
    retrieve_location_uid: str | None,
    studies: Sequence[str | Path],
) -> tuple[ImagingIndex, list[str], list[str]]:
    """The given index (or one opened from ``store``) with the studies under ``studies`` loaded into it."""
    if index is None:
        return open_index(store, files_dir, retrieve_location_uid, studies)
    loaded: list[str] = []
    skipped: list[str] = []
    for directory in studies:
        added, notes = index.import_directory(directory)
        loaded.append(f"{directory} ({len(added)})")
        skipped += notes
    return index, loaded, skipped


def start_imaging_source(
    index: ImagingIndex | None = None,
    *,
    host: str = "127.0.0.1",
    dicom_port: int = 0,
    http_port: int | None = 0,
    aet: str = DEFAULT_AET,
    studies: Sequence[str | Path] = (),
    move_destinations: Mapping[str, tuple[str, int]] | Sequence[str] | None = None,
    store: str | None = None,
    files_dir: str | Path | None = None,
    retrieve_location_uid: str | None = None,
    accepted_calling_aets: Collection[str] | None = None,
    require_called_aet: bool = False,
    profile: str = "cisis",
    journal: Journal | None = None,
    tls: TlsConfig | None = None,
    log_level: str = "warning",
) -> RunningImagingSource:
    """Start the DICOM server and (unless ``http_port`` is None) the HTTP server in threads; port 0 = a free port.

    ``index``: an open index (kept open at stop); otherwise one is opened from ``store``/``files_dir`` (closed at
    stop). ``move_destinations``: ``{"AET": ("host", port)}`` or ``["AET=HOST:PORT", ...]``.
    """
    own = index is None
    index, loaded, skipped = _with_studies(index, store, files_dir, retrieve_location_uid, studies)
    source = DicomSource(
        index,
        aet,
        move_destinations=_destinations(move_destinations),
        accepted_calling_aets=accepted_calling_aets,
        require_called_aet=require_called_aet,
        journal=journal,
    )
    dicom: DicomServer | None = None
    try:
        dicom = source.start(host, dicom_port, ssl_context=_dicom_ssl(tls))
        http = None
        if http_port is not None:
            app = create_app(index, profile=profile, journal=journal)
            http = start_in_thread(app, host, http_port, tls, log_level=log_level)
    except BaseException:
        if dicom is not None:
            dicom.stop()
        if own:
            index.close()
        raise
    return RunningImagingSource(index, dicom, http, host, loaded, skipped, own)


@contextlib.contextmanager
def running_imaging_source(**kwargs: Any) -> Iterator[RunningImagingSource]:
    """``with running_imaging_source(studies=[dir]) as src: ... src.rad69_url ...``"""
    src = start_imaging_source(**kwargs)
    try:
        yield src
    finally:
        src.stop()


def serve_imaging_source(
    *,
    host: str = "127.0.0.1",
    dicom_port: int = DEFAULT_DICOM_PORT,
    http_port: int = DEFAULT_HTTP_PORT,
    aet: str = DEFAULT_AET,
    studies: Sequence[str | Path] = (),
    move_destinations: Mapping[str, tuple[str, int]] | Sequence[str] | None = None,
    store: str | None = None,
    files_dir: str | Path | None = None,
    retrieve_location_uid: str | None = None,
    accepted_calling_aets: Collection[str] | None = None,
    require_called_aet: bool = False,
    profile: str = "cisis",
    journal: Journal | None = None,
    tls: TlsConfig | None = None,
    log_level: str = "info",
    out: IO[str] | None = None,
    index: ImagingIndex | None = None,
) -> None:
    """Run the imaging source until interrupted (SIGINT/SIGTERM); prints every endpoint first. The HTTP server
    runs in the calling thread (uvicorn handles the signals), the DICOM server in its own threads."""
    own = index is None
    index, loaded, skipped = _with_studies(index, store, files_dir, retrieve_location_uid, studies)
    destinations = _destinations(move_destinations)
    source = DicomSource(
        index,
        aet,
        move_destinations=destinations,
        accepted_calling_aets=accepted_calling_aets,
        require_called_aet=require_called_aet,
        journal=journal,
    )
    sock = None
    try:
        dicom = source.start(host, dicom_port, ssl_context=_dicom_ssl(tls))
        try:
            app = create_app(index, profile=profile, journal=journal)
            server = _uvicorn_server(app, tls, log_level)
            sock = _bind(host, http_port)
            url = base_url(host, sock.getsockname()[1], tls)
            stream = out or sys.stdout
            stream.write(banner(index, aet, host, dicom.port, url, destinations, loaded, skipped))
            stream.flush()
            server.run(sockets=[sock])
        finally:
            dicom.stop()
    finally:
        if sock is not None:
            sock.close()
        if own:
            index.close()


def _destinations(value: Mapping[str, tuple[str, int]] | Sequence[str] | None) -> dict[str, tuple[str, int]]:
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return {k: (h, int(p)) for k, (h, p) in value.items()}
    return dict(parse_move_destination(v) for v in value)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _uvicorn_server(app: Any, tls: TlsConfig | None, log_level: str) -> Any:
    import uvicorn

    config = uvicorn.Config(
        app,
        log_level=log_level,
        lifespan="off",
        access_log=False,
        timeout_keep_alive=30,
        **(tls.uvicorn_options() if tls else {}),
    )
    return uvicorn.Server(config)


__all__ = [
    "DEFAULT_DICOM_PORT",
    "DEFAULT_HTTP_PORT",
    "RunningImagingSource",
    "banner",
    "open_index",
    "running_imaging_source",
    "serve_imaging_source",
    "start_imaging_source",
]
