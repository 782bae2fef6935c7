"""The systems under test: ``sut.toml`` (DESIGN §5).

Each actor section that is present names a vendor's system; an absent section means our simulator plays it::

    [registry]        iti41_url, iti18_url, iti43_url, iti57_url
    [imaging_source]  aet, host, port, rad69_url, wado_rs_url, retrieve_location_uid
    [producer]        trigger = "command {patient_id} {accession_number}", update_trigger = "…", wait_seconds = 60
    [consumer]        trigger = "command ...", images_trigger = "command ... {method} ...", wait_seconds = 60,
                      move_aet, move_host, move_port (its storage SCP, for C-MOVE)
    [harness]         host, registry_port, dicom_port, http_port, aet, store (our own simulators)
    [tls]             cert, key, ca (mutual TLS; paths relative to the sut.toml file)

``load_sut(None)`` (no file) is the embedded default: every actor simulated on loopback. Every mistake is
reported as one :class:`SutError` line naming the file, the section and the key.

An initiator under test (producer, consumer) is driven by its ``trigger`` command (:meth:`Initiator.run`), or,
without one, the scenario waits up to ``wait_seconds`` for its messages to reach our simulators.
"""

from __future__ import annotations

import dataclasses
import os
import shlex
import string
import subprocess
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

#: the environment variable naming the sut.toml of a run (``tox -e producer`` sets it)
ENV_VAR = "XDSI_SUT"
#: seconds an initiator is given by default (to run its trigger, or to send its messages)
DEFAULT_WAIT = 60.0
#: characters of a trigger's output kept in :class:`TriggerResult`
MAX_OUTPUT = 64_000


class SutError(Exception):
    """A sut.toml that cannot be used: one line saying where and why."""


class TriggerError(Exception):
    """A trigger command that could not run, timed out, or (with ``check``) failed."""

    def __init__(self, message: str, result: TriggerResult | None = None) -> None:
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class RegistryEndpoints:
    """A vendor's document sharing manager (registry + repository)."""

    iti41_url: str
    iti18_url: str
    iti43_url: str
    #: None: the registry does not offer metadata update (process 3.2 scenarios are skipped)
    iti57_url: str | None = None


@dataclass(frozen=True)
class ImagingSourceEndpoints:
    """A vendor's imaging source: DICOM (``aet``, ``host``, ``port``) and/or RAD-69 and/or WADO-RS."""

    aet: str | None = None
    host: str | None = None
    port: int | None = None
    rad69_url: str | None = None
    wado_rs_url: str | None = None
    #: the source's RetrieveLocationUID (the KOS's, and RAD-69's RepositoryUniqueId); None: ours
    retrieve_location_uid: str | None = None

    @property
    def has_dimse(self) -> bool:
        return self.aet is not None and self.host is not None and self.port is not None


@dataclass(frozen=True)
class TriggerResult:
    command: list[str]
    returncode: int
    stdout: str
    stderr: str
    duration_s: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def describe(self) -> str:
        """``trigger CMD exited with N: <the end of its stderr>``, for a step's failure message."""
        return f"trigger {' '.join(self.command)} exited with {self.returncode}: {self.stderr.strip()[-2000:]}"


@dataclass(frozen=True)
class Initiator:
    """A vendor's initiator (producer, consumer): a trigger command, or nothing (we wait for its messages)."""

    trigger: str | None = None
    #: the bound of the trigger's run, or of the wait for the initiator's messages
    wait_seconds: float = DEFAULT_WAIT
    #: a consumer's command to retrieve an exam's images (process 3.5), when its ``trigger`` only finds documents
    images_trigger: str | None = None
    #: a producer's command to update a Fiche it published (Flux 3, process 3.2): a status or a new version
    update_trigger: str | None = None
    #: a consumer's storage SCP (AE title, host, port): a C-MOVE destination our imaging source then knows
    move_destination: tuple[str, str, int] | None = None

    def images(self) -> Initiator:
        """The initiator that retrieves images: ``images_trigger`` as its trigger (None: nothing to run)."""
        return Initiator(self.images_trigger, self.wait_seconds)

    def updates(self) -> Initiator:
        """The initiator that updates metadata: ``update_trigger`` as its trigger (None: nothing to run)."""
        return Initiator(self.update_trigger, self.wait_seconds)

    def placeholders(self) -> list[str]:
        """The ``{names}`` the trigger expects."""
        if not self.trigger:
            return []
        return [name for _, name, _, _ in string.Formatter().parse(self.trigger) if name]

    def command(self, **values: object) -> list[str]:
        """The trigger as an argument list: split first (shell rules), then each argument formatted, so a
        value with spaces or quotes stays one argument and is never interpreted by a shell."""
        if not self.trigger:
            raise TriggerError("no trigger: wait for the initiator's messages instead")
        missing = [name for name in self.placeholders() if name not in values]
        if missing:
            raise TriggerError(
                f"trigger {self.trigger!r} needs {', '.join('{' + m + '}' for m in missing)}; "
                f"given: {', '.join(sorted(values)) or 'nothing'}"
            )
        return [arg.format(**values) for arg in shlex.split(self.trigger)]

    def run(self, *, check: bool = True, cwd: Path | None = None, **values: object) -> TriggerResult | None:
        """Run the trigger with ``values`` (e.g. ``patient_id``, ``accession_number``, ``registry_url``),
        bounded by ``wait_seconds``, output captured. None when there is no trigger (the caller then waits for
        the initiator's messages). :class:`TriggerError` on a missing value, a command that cannot start, a
        timeout, or (``check``) a non-zero exit."""
        if not self.trigger:
            return None
        argv = self.command(**values)
        start = time.monotonic()
        try:
            proc = subprocess.run(
                argv,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=self.wait_seconds,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except FileNotFoundError as exc:
            raise TriggerError(f"trigger {argv[0]!r} not found: {exc}") from exc
        except subprocess.TimeoutExpired as exc:
            raise TriggerError(f"trigger {shlex.join(argv)} did not finish within {self.wait_seconds:g} s") from exc
        except OSError as exc:
            raise TriggerError(f"trigger {shlex.join(argv)} cannot run: {exc}") from exc
        result = TriggerResult(
            argv, proc.returncode, proc.stdout[-MAX_OUTPUT:], proc.stderr[-MAX_OUTPUT:], time.monotonic() - start
        )
        if check and not result.ok:
            last = (result.stderr.strip() or result.stdout.strip()).splitlines()[-1:] or [""]
            raise TriggerError(f"trigger {shlex.join(argv)} exited with {proc.returncode}: {last[0]}", result)
        return result


@dataclass(frozen=True)
class Harness:
    """Our own simulators, as a vendor configures them on its side. Port 0: any free port (all-simulated)."""

    host: str = "127.0.0.1"
    registry_port: int = 0
    dicom_port: int = 0
    http_port: int = 0
    aet: str = "XDSI"
    #: the registry simulator's store (``sqlite:///PATH`` or ``postgresql://…``); None: a fresh SQLite file
    store: str | None = None


@dataclass(frozen=True)
class Tls:
    cert: Path
    key: Path
    ca: Path | None = None


@dataclass(frozen=True)
class Sut:
    registry: RegistryEndpoints | None = None
    imaging_source: ImagingSourceEndpoints | None = None
    producer: Initiator | None = None
    consumer: Initiator | None = None
    harness: Harness = field(default_factory=Harness)
    tls: Tls | None = None
    #: the file read (None: the embedded default)
    path: Path | None = None

    def simulated(self, actor: str) -> bool:
        """True when our simulator plays ``actor`` (``producer``, ``registry``, ``consumer``, ``imaging_source``)."""
        if actor not in _ACTORS:
            raise ValueError(f"unknown actor {actor!r}; one of {', '.join(_ACTORS)}")
        return getattr(self, actor) is None

    @property
    def under_test(self) -> list[str]:
        """The actors played by a vendor's system."""
        return [a for a in _ACTORS if getattr(self, a) is not None]


_ACTORS = ("producer", "registry", "consumer", "imaging_source")


# ------------------------------------------------------------------------------------------------ loading


class _Section:
    """Typed access to one table of the file, with errors that say where."""

    def __init__(self, where: str, name: str, table: Any, allowed: tuple[str, ...]) -> None:
        self.where = f"{where}: [{name}]"
        if not isinstance(table, dict):
            raise SutError(f"{self.where} must be a table")
        unknown = [k for k in table if k not in allowed]
        if unknown:
            raise SutError(f"{self.where}: unknown key {unknown[0]!r}; allowed: {', '.join(allowed)}")
        self.table: dict[str, Any] = table

    def text(self, key: str, required: bool = False) -> str | None:
        value = self.table.get(key)
        if value is None:
            if required:
                raise SutError(f"{self.where}: missing {key}")
            return None
        if not isinstance(value, str) or not value.strip():
            raise SutError(f"{self.where} {key}: expected a non-empty string, found {value!r}")
        return value.strip()

    def url(self, key: str, required: bool = False) -> str | None:
        value = self.text(key, required)
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SutError(f"{self.where} {key}: not an http(s) URL: {value!r}")
        try:
            _ = parts.port
        except ValueError:
            raise SutError(f"{self.where} {key}: bad port in {value!r}") from None
        return value

    def port(self, key: str, default: int | None = None, allow_zero: bool = False) -> int | None:
        value = self.table.get(key, default)
        if value is None:
            return None
        low = 0 if allow_zero else 1
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= 65535:
            raise SutError(f"{self.where} {key}: expected a port number {low}-65535, found {value!r}")
        return value

    def seconds(self, key: str, default: float) -> float:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise SutError(f"{self.where} {key}: expected a positive number of seconds, found {value!r}")
        return float(value)

    def file(self, key: str, base: Path, required: bool = False) -> Path | None:
        value = self.text(key, required)
        if value is None:
            return None
        path = Path(value).expanduser()
        if not path.is_absolute():
            path = base / path
        if not path.is_file():
            raise SutError(f"{self.where} {key}: no such file {path}")
        return path


_KEYS: dict[str, tuple[str, ...]] = {
    "registry": ("iti41_url", "iti18_url", "iti43_url", "iti57_url"),
    "imaging_source": ("aet", "host", "port", "rad69_url", "wado_rs_url", "retrieve_location_uid"),
    "producer": ("trigger", "update_trigger", "wait_seconds"),
    "consumer": ("trigger", "images_trigger", "wait_seconds", "move_aet", "move_host", "move_port"),
    "harness": ("host", "registry_port", "dicom_port", "http_port", "aet", "store"),
    "tls": ("cert", "key", "ca"),
}


def _aet(section: _Section, key: str) -> str | None:
    value = section.text(key)
    if value is not None and (len(value) > 16 or not value.isascii() or "\\" in value):
        raise SutError(f"{section.where} {key}: an AE title is 1-16 ASCII characters without '\\', found {value!r}")
    return value


def _uid(section: _Section, key: str = "retrieve_location_uid") -> str | None:
    value = section.text(key)
    if value is not None and (len(value) > 64 or not all(p.isdigit() for p in value.split("."))):
        raise SutError(f"{section.where} {key}: not an OID/UID (digits and dots, 64 at most): {value!r}")
    return value


def _initiator(section: _Section) -> Initiator:
    initiator = Initiator(
        section.text("trigger"),
        section.seconds("wait_seconds", DEFAULT_WAIT),
        section.text("images_trigger"),
        section.text("update_trigger"),
    )
    move = (_aet(section, "move_aet"), section.text("move_host"), section.port("move_port"))
    if any(v is not None for v in move):
        if not all(move):
            raise SutError(f"{section.where}: move_aet, move_host and move_port go together (its storage SCP)")
        initiator = dataclasses.replace(initiator, move_destination=(str(move[0]), str(move[1]), int(move[2] or 0)))
    commands = {"trigger": initiator.trigger, "images_trigger": initiator.images_trigger}
    commands["update_trigger"] = initiator.update_trigger
    for key, command in commands.items():
        if command is None:
            continue
        try:
            argv = shlex.split(command)
            Initiator(command).placeholders()
        except ValueError as exc:
            raise SutError(f"{section.where} {key}: cannot parse {command!r}: {exc}") from None
        if not argv:
            raise SutError(f"{section.where} {key}: empty command")
    for key in ("images_trigger", "update_trigger"):
        if commands[key] and not initiator.trigger:
            raise SutError(f"{section.where} {key}: give the trigger too (or neither: the scenarios wait)")
    return initiator


def parse_sut(data: dict[str, Any], where: str = "sut.toml", base: Path | None = None) -> Sut:
    """A :class:`Sut` from the parsed TOML ``data`` (``base``: the folder relative paths start from)."""
    base = base or Path.cwd()
    unknown = [k for k in data if k not in _KEYS]
    if unknown:
        raise SutError(f"{where}: unknown section [{unknown[0]}]; allowed: {', '.join(f'[{k}]' for k in _KEYS)}")
    sections = {name: _Section(where, name, data[name], _KEYS[name]) for name in _KEYS if name in data}

    registry = None
    if s := sections.get("registry"):
        registry = RegistryEndpoints(
            s.url("iti41_url", True) or "", s.url("iti18_url", True) or "", s.url("iti43_url", True) or "",
            s.url("iti57_url"),
        )  # fmt: skip

    imaging_source = None
    if s := sections.get("imaging_source"):
        imaging_source = ImagingSourceEndpoints(
            _aet(s, "aet"), s.text("host"), s.port("port"), s.url("rad69_url"), s.url("wado_rs_url"), _uid(s)
        )
        dimse = (imaging_source.aet, imaging_source.host, imaging_source.port)
        if any(v is not None for v in dimse) and not imaging_source.has_dimse:
            raise SutError(f"{s.where}: aet, host and port go together (DICOM retrieval)")
        if not (imaging_source.has_dimse or imaging_source.rad69_url or imaging_source.wado_rs_url):
            raise SutError(f"{s.where}: give aet/host/port, rad69_url or wado_rs_url (at least one way to retrieve)")

    producer = _initiator(sections["producer"]) if "producer" in sections else None
    consumer = _initiator(sections["consumer"]) if "consumer" in sections else None

    harness = Harness()
    if s := sections.get("harness"):
        harness = Harness(
            host=s.text("host") or harness.host,
            registry_port=s.port("registry_port", 0, allow_zero=True) or 0,
            dicom_port=s.port("dicom_port", 0, allow_zero=True) or 0,
            http_port=s.port("http_port", 0, allow_zero=True) or 0,
            aet=_aet(s, "aet") or harness.aet,
            store=s.text("store"),
        )

    tls = None
    if s := sections.get("tls"):
        cert, key = s.file("cert", base, True), s.file("key", base, True)
        assert cert is not None and key is not None
        tls = Tls(cert, key, s.file("ca", base))

    return Sut(registry, imaging_source, producer, consumer, harness, tls)


def load_sut(path: Path | None) -> Sut:
    """Read and check ``path`` (None: every actor simulated). :class:`SutError` with one line when wrong."""
    if path is None:
        return Sut()
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SutError(f"{path}: no such file") from None
    except OSError as exc:
        raise SutError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise SutError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise SutError(f"{path}: not valid TOML: {exc}") from None
    sut = parse_sut(data, str(path), path.resolve().parent)
    return Sut(sut.registry, sut.imaging_source, sut.producer, sut.consumer, sut.harness, sut.tls, path)


def sut_path_from_env(environ: dict[str, str] | None = None) -> Path | None:
    """The sut.toml named by ``XDSI_SUT`` (None when unset or empty: every actor simulated)."""
    value = (os.environ if environ is None else environ).get(ENV_VAR, "").strip()
    return Path(value) if value else None
