"""sut.toml loading (xdsi.config): sections, validation errors, presets, initiator triggers."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

from xdsi.config import (
    DEFAULT_WAIT,
    Harness,
    ImagingSourceEndpoints,
    Initiator,
    RegistryEndpoints,
    SutError,
    TriggerError,
    load_sut,
    sut_path_from_env,
)

ROOT = Path(__file__).resolve().parents[1]
PRESETS = ROOT / "presets"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sut.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_means_everything_simulated() -> None:
    sut = load_sut(None)
    assert sut.registry is None and sut.imaging_source is None and sut.producer is None and sut.consumer is None
    assert sut.harness == Harness()
    assert sut.tls is None
    assert all(sut.simulated(a) for a in ("producer", "registry", "consumer", "imaging_source"))
    assert sut.under_test == []


def test_full_file(tmp_path: Path) -> None:
    for name in ("c.pem", "k.pem", "ca.pem"):
        (tmp_path / name).write_text("x")
    path = write(
        tmp_path,
        """
[registry]
iti41_url = "https://reg.example:8443/iti41"
iti18_url = "https://reg.example:8443/iti18"
iti43_url = "https://reg.example:8443/iti43"

[imaging_source]
aet = "PACS"
host = "10.0.0.5"
port = 104
rad69_url = "https://pacs.example/rad69"
retrieve_location_uid = "1.2.250.1.999.7"

[producer]
trigger = "ris-publish --patient {patient_id} {accession_number}"
wait_seconds = 12.5

[consumer]

[harness]
host = "192.0.2.10"
registry_port = 8080
aet = "XDSI_TEST"
store = "postgresql://u@h/db"

[tls]
cert = "c.pem"
key = "k.pem"
ca = "ca.pem"
""",
    )
    sut = load_sut(path)
    assert sut.path == path
    assert sut.registry == RegistryEndpoints(
        "https://reg.example:8443/iti41", "https://reg.example:8443/iti18", "https://reg.example:8443/iti43", None
    )
    assert sut.imaging_source == ImagingSourceEndpoints(
        "PACS", "10.0.0.5", 104, "https://pacs.example/rad69", None, "1.2.250.1.999.7"
    )
    assert sut.imaging_source.has_dimse
    assert sut.producer == Initiator("ris-publish --patient {patient_id} {accession_number}", 12.5)
    assert sut.producer.placeholders() == ["patient_id", "accession_number"]
    assert sut.consumer == Initiator(None, DEFAULT_WAIT)
    assert sut.harness == Harness("192.0.2.10", 8080, 0, 0, "XDSI_TEST", "postgresql://u@h/db")
    assert sut.tls is not None and sut.tls.cert == tmp_path / "c.pem" and sut.tls.ca == tmp_path / "ca.pem"
    assert sut.under_test == ["producer", "registry", "consumer", "imaging_source"]
    assert not sut.simulated("consumer")
    with pytest.raises(ValueError, match="unknown actor"):
        sut.simulated("pacs")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[pacs]\n", r"unknown section \[pacs\]"),
        ("registry = 1\n", r"\[registry\] must be a table"),
        ('[registry]\niti41_url = "http://a/iti41"\nfoo = 1\n', r"\[registry\]: unknown key 'foo'"),
        ('[registry]\niti41_url = "http://a/1"\niti18_url = "http://a/2"\n', r"\[registry\]: missing iti43_url"),
        (
            '[registry]\niti41_url = "ftp://a/1"\niti18_url = "http://a/2"\niti43_url = "http://a/3"\n',
            r"\[registry\] iti41_url: not an http\(s\) URL: 'ftp://a/1'",
        ),
        (
            '[registry]\niti41_url = "http://a:99999/1"\niti18_url = "http://a/2"\niti43_url = "http://a/3"\n',
            "bad port",
        ),
        ('[imaging_source]\naet = "A"\nhost = "h"\n', "aet, host and port go together"),
        ('[imaging_source]\naet = "A"\nhost = "h"\nport = 70000\n', "expected a port number 1-65535"),
        ('[imaging_source]\naet = "A_VERY_LONG_AE_TITLE"\nhost = "h"\nport = 104\n', "AE title is 1-16"),
        ("[imaging_source]\n", "at least one way to retrieve"),
        ('[imaging_source]\nwado_rs_url = "http://h/"\nretrieve_location_uid = "1.2.x"\n', "not an OID/UID"),
        ('[producer]\ntrigger = "x \'unclosed"\n', r"\[producer\] trigger: cannot parse"),
        ('[producer]\ntrigger = "x {"\n', r"\[producer\] trigger: cannot parse"),
        ("[consumer]\nwait_seconds = -1\n", "positive number of seconds"),
        ('[consumer]\nimages_trigger = "view {method}"\n', r"\[consumer\] images_trigger: give the trigger too"),
        ('[consumer]\ntrigger = "t"\nimages_trigger = "v {"\n', r"\[consumer\] images_trigger: cannot parse"),
        ('[producer]\ntrigger = "t"\nimages_trigger = "v"\n', r"\[producer\]: unknown key 'images_trigger'"),
        ('[producer]\nupdate_trigger = "u {operation}"\n', r"\[producer\] update_trigger: give the trigger too"),
        ('[consumer]\ntrigger = "t"\nupdate_trigger = "u"\n', r"\[consumer\]: unknown key 'update_trigger'"),
        ('[consumer]\nmove_aet = "V"\nmove_port = 104\n', "move_aet, move_host and move_port go together"),
        ('[producer]\nmove_aet = "V"\n', r"\[producer\]: unknown key 'move_aet'"),
        ("[consumer]\ntrigger = 3\n", "expected a non-empty string"),
        ('[tls]\ncert = "nope.pem"\nkey = "nope.pem"\n', r"\[tls\] cert: no such file"),
        ("[tls]\n", r"\[tls\]: missing cert"),
        ("[registry\n", "not valid TOML"),
    ],
)
def test_errors_are_one_clear_line(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(SutError, match=message) as info:
        load_sut(path)
    assert "\n" not in str(info.value)
    assert str(info.value).startswith(str(path))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SutError, match="no such file"):
        load_sut(tmp_path / "absent.toml")


def test_env_var() -> None:
    assert sut_path_from_env({}) is None
    assert sut_path_from_env({"XDSI_SUT": " "}) is None
    assert sut_path_from_env({"XDSI_SUT": "presets/x.toml"}) == Path("presets/x.toml")


def test_presets() -> None:
    assert load_sut(PRESETS / "all-simulated.toml").under_test == []
    registry = load_sut(PRESETS / "registry-external.toml")
    assert registry.under_test == ["registry"]
    assert registry.registry is not None and registry.registry.iti41_url == "http://127.0.0.1:18080/iti41"
    orthanc = load_sut(PRESETS / "imaging-source-orthanc.toml")
    assert orthanc.under_test == ["imaging_source"]
    assert orthanc.imaging_source == ImagingSourceEndpoints(
        "ORTHANC", "127.0.0.1", 4242, None, "http://127.0.0.1:8042/dicom-web"
    )
    producer = load_sut(PRESETS / "producer-trigger.toml")
    assert producer.under_test == ["producer"]
    assert producer.producer is not None
    argv = producer.producer.command(
        registry_url="http://r/iti41", patient_id="1^^^&2&ISO^NH", accession_number="A 1", modality="MR"
    )
    assert argv[2:] == ["http://r/iti41", "1^^^&2&ISO^NH", "A 1", "--modality", "MR"]
    updates = producer.producer.updates()
    assert {"operation", "entry_uuid", "logical_id", "document_uid", "original_status", "new_status"} <= set(
        updates.placeholders()
    )
    consumer = load_sut(PRESETS / "consumer-trigger.toml").consumer
    assert consumer is not None and consumer.images_trigger is not None
    images = consumer.images()
    assert {"method", "rad69_url", "dicom_aet", "dicom_host", "dicom_port"} <= set(images.placeholders())
    assert Initiator("t").images().trigger is None
    assert consumer.move_destination == ("VENDOR_VIEWER", "127.0.0.1", 18096)
    assert "move_aet" in images.placeholders()
    for name in ("producer-awaited.toml", "consumer-awaited.toml"):
        awaited = load_sut(PRESETS / name)
        initiator = awaited.producer or awaited.consumer
        assert initiator is not None and initiator.trigger is None and awaited.harness.registry_port


def py(code: str) -> str:
    return f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}"


def test_trigger_runs_with_values_as_single_arguments(tmp_path: Path) -> None:
    initiator = Initiator(py("import sys; print('|'.join(sys.argv[1:]))") + " {patient_id} {accession_number}", 30)
    result = initiator.run(patient_id="123^^^&1.2&ISO", accession_number="ACC 1; rm -rf /")
    assert result is not None and result.ok
    assert result.stdout.strip() == "123^^^&1.2&ISO|ACC 1; rm -rf /"
    assert result.command[-1] == "ACC 1; rm -rf /"


def test_trigger_failures() -> None:
    assert Initiator(None).run(patient_id="1") is None
    with pytest.raises(TriggerError, match=r"needs \{accession_number\}"):
        Initiator("tool {patient_id} {accession_number}").run(patient_id="1")
    with pytest.raises(TriggerError, match="not found"):
        Initiator("/nonexistent/tool-xdsi").run()
    failing = Initiator(py("import sys; print('boom', file=sys.stderr); sys.exit(3)"))
    with pytest.raises(TriggerError, match="exited with 3: boom") as info:
        failing.run()
    assert info.value.result is not None and info.value.result.returncode == 3
    result = failing.run(check=False)
    assert result is not None and result.returncode == 3 and not result.ok
    with pytest.raises(TriggerError, match=r"did not finish within 0\.5 s"):
        Initiator(py("import time; time.sleep(10)"), wait_seconds=0.5).run()
