"""``xdsi study …`` and ``xdsi kos …``: the sub-commands of the DICOM side, ready to be wired into ``xdsi.cli``.

``add_commands(subparsers)`` adds:

* ``xdsi study generate --out DIR [--modality CT] [--series N] [--instances N] [--rows R --columns C] [--seed S]
  [--example] [--patient-id …] [--ins …] [--accession …] [--order …] …``
* ``xdsi study show DIR`` — the study read back from its files (JSON)
* ``xdsi kos build STUDY_DIR -o kos.dcm [--retrieve-ae AET] [--retrieve-url URL] [--retrieve-location-uid UID]
  [--seed S] [--example]``
* ``xdsi kos show KOS`` — the parsed KOS and the DocumentEntry derived from it (JSON)

Each handler returns the exit status: 0 done, 2 bad input (with the reason on stderr). The handlers import
pydicom and highdicom themselves: every ``xdsi`` command builds this parser, and those imports cost ~0.5 s.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from xdsi.messages import examples

_IDENTITY_OPTIONS = (
    ("--patient-id", "patient_id", "local patient identifier (IPP), Patient ID of the images"),
    ("--patient-name", "patient_name", "DICOM name FAMILY^Given"),
    ("--ins", "ins", "INS matricule (15 characters)"),
    ("--ins-issuer", "ins_issuer", "INS OID (default 1.2.250.1.213.1.4.10, test INS)"),
    ("--accession", "accession_number", "accession number"),
    ("--accession-issuer", "accession_issuer", "OID of the accession number's issuer"),
    ("--order", "order_number", "placer order number"),
    ("--order-issuer", "order_issuer", "OID of the placer order number's issuer"),
    ("--study-uid", "study_instance_uid", "Study Instance UID"),
    ("--study-date", "study_date", "study date YYYYMMDD"),
    ("--study-time", "study_time", "study time HHMMSS"),
    ("--body-part", "body_part", "Body Part Examined (CHEST, HEAD, ABDOMEN…)"),
)


def _jsonable(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, Path):
        return str(obj)
    return obj


def cmd_study_generate(args: argparse.Namespace) -> int:
    from xdsi.dicom.study import generate_study

    overrides = {dest: getattr(args, dest) for _opt, dest, _help in _IDENTITY_OPTIONS if getattr(args, dest)}
    try:
        study = generate_study(
            args.out,
            modality=args.modality,
            series=args.series,
            instances=args.instances,
            rows=args.rows,
            columns=args.columns,
            seed=args.seed,
            exam=examples.Exam() if args.example else None,
            **overrides,
        )
    except (ValueError, TypeError, OSError) as exc:
        sys.stderr.write(f"xdsi study generate: {exc}\n")
        return 2
    n = len(study.instances)
    sys.stdout.write(
        f"{args.out}: study {study.study_instance_uid}, {len(study.series)} series, {n} instances "
        f"({', '.join(study.modalities)}), patient INS {study.ins}, accession {study.accession_number}\n"
    )
    return 0


def cmd_study_show(args: argparse.Namespace) -> int:
    from xdsi.dicom.study import read_study

    try:
        study = read_study(args.directory)
    except (ValueError, OSError) as exc:
        sys.stderr.write(f"xdsi study show: {exc}\n")
        return 2
    sys.stdout.write(json.dumps(_jsonable(study), indent=1, ensure_ascii=False) + "\n")
    return 0


def cmd_kos_build(args: argparse.Namespace) -> int:
    from xdsi.dicom.kos import build_kos, write_kos
    from xdsi.dicom.study import read_study

    try:
        study = read_study(args.study_dir)
        ds = build_kos(
            study,
            retrieve_ae_title=args.retrieve_ae or None,
            retrieve_url=args.retrieve_url,
            retrieve_location_uid=args.retrieve_location_uid,
            seed=args.seed,
            exam=examples.Exam() if args.example else None,
        )
        path = write_kos(ds, args.output)
    except (ValueError, OSError) as exc:
        sys.stderr.write(f"xdsi kos build: {exc}\n")
        return 2
    sys.stdout.write(f"{path}: KOS {ds.SOPInstanceUID} referencing {len(study.instances)} instances\n")
    return 0


def cmd_kos_show(args: argparse.Namespace) -> int:
    from xdsi.dicom.kos import KosError, kos_entry_metadata, parse_kos

    try:
        kos = parse_kos(Path(args.kos))
    except KosError as exc:
        sys.stderr.write(f"xdsi kos show: {exc}\n")
        return 2
    entry = kos_entry_metadata(kos)
    out = {"kos": _jsonable(kos), "document_entry": _jsonable(entry)}
    sys.stdout.write(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    return 0


def add_commands(sub: Any) -> None:
    """Add ``study`` and ``kos`` to the ``xdsi`` sub-parsers (``parser.add_subparsers()``'s result)."""
    study = sub.add_parser("study", help="synthetic DICOM studies")
    ssub = study.add_subparsers(dest="study_command", required=True)
    g = ssub.add_parser("generate", help="write a synthetic study (deterministic with --seed)")
    g.add_argument("--out", required=True, type=Path, help="directory to write <series>/<sop>.dcm into")
    g.add_argument("--modality", default="CT", help="CT, MR, CR, DX, MG, US, NM, PT, XA, RF, OT; several: PT,CT")
    g.add_argument("--series", type=int, default=2)
    g.add_argument("--instances", type=int, default=3, help="instances per series")
    g.add_argument("--rows", type=int, default=64)
    g.add_argument("--columns", type=int, default=64)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--example", action="store_true", help="the example exam of `xdsi examples` (UIDs, identifiers)")
    for opt, dest, help_text in _IDENTITY_OPTIONS:
        g.add_argument(opt, dest=dest, help=help_text)
    g.set_defaults(func=cmd_study_generate)
    sh = ssub.add_parser("show", help="describe a study from its files (JSON)")
    sh.add_argument("directory", type=Path)
    sh.set_defaults(func=cmd_study_show)

    kos = sub.add_parser("kos", help="the XDS-I.b manifest (DICOM KOS)")
    ksub = kos.add_subparsers(dest="kos_command", required=True)
    b = ksub.add_parser("build", help="build the KOS of a study directory")
    b.add_argument("study_dir", type=Path)
    b.add_argument("-o", "--output", required=True, type=Path)
    b.add_argument("--retrieve-ae", default="XDSI_SOURCE", help="Retrieve AE Title per series ('' to omit)")
    b.add_argument("--retrieve-url", help="WADO-RS base URL (or a template with {study} and {series})")
    b.add_argument("--retrieve-location-uid", help="Retrieve Location UID (the Imaging Document Source id)")
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--example", action="store_true", help="use the example exam's KOS UIDs")
    b.set_defaults(func=cmd_kos_build)
    s = ksub.add_parser("show", help="parse a KOS and the DocumentEntry derived from it (JSON)")
    s.add_argument("kos", type=Path)
    s.set_defaults(func=cmd_kos_show)
