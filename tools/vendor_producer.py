"""Play a vendor's producer (PACS/RIS) for `tox -e producer`: publish the example exam to a registry.

    python tools/vendor_producer.py REGISTRY_ITI41_URL PATIENT_ID ACCESSION_NUMBER [--modality CT] [--inline]
        [--timeout S]
    python tools/vendor_producer.py REGISTRY_ITI41_URL PATIENT_ID [PREFIX] --every S [--for S] ...
    python tools/vendor_producer.py REGISTRY_ITI57_URL PATIENT_ID ACCESSION_NUMBER --update status
        --entry-uuid UUID --from Approved --to Archived
    python tools/vendor_producer.py REGISTRY_ITI57_URL PATIENT_ID ACCESSION_NUMBER --update new-version
        --logical-id UUID --document-uid UID

Builds the example exam (a KOS and its report, xdsi.messages.examples) for the given patient (an INS, or a
CX ``INS^^^&OID&ISO^NH`` whose first component is taken), accession number and modality (a DICOM code, CT by
default), its Study Instance UID derived from the accession number, and submits it (Flux 1,
ITI-41) with our producer client. Exit 0 when the registry answers Success, 1 when it refuses, 2 on a usage
or transport error. It is what `presets/producer-trigger.toml` runs as the producer's trigger.

With ``--update`` it updates the KOS Fiche it published for that accession number (Flux 3, ITI-57): a status
change or a new version (masked to professionals); it is what the preset runs as the producer's update_trigger.

With ``--every S`` it plays a producer without trigger (`presets/producer-awaited.toml`): it publishes a new
exam of the patient (accession number PREFIX, ``ACCV`` by default, + the process id + a counter; modality
taken in turn from ``--modality A,B,…``) every S seconds, whatever the registry answers (connection refused
included), until ``--for`` seconds have passed.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulators.producer.client import ProducerClient, TransportError
from xdsi.dicom.kos import modality_code
from xdsi.messages import examples, iti41
from xdsi.model import metadata as md


def exam_for(patient_id: str, accession_number: str, modality: str = "CT") -> examples.Exam:
    """The example exam for this patient, accession and modality (UIDs derived from the accession: one study
    each)."""
    ins = patient_id.split("^", 1)[0].strip()
    if not ins:
        raise ValueError(f"no patient identifier in {patient_id!r}")
    if not accession_number.strip():
        raise ValueError("empty accession number")
    name = "vendor-" + re.sub(r"[^A-Za-z0-9]+", "-", accession_number.strip())
    if not modality.strip():
        raise ValueError("empty modality")
    return examples.Exam(
        name=name, patient_ins=ins, accession_number=accession_number.strip(), modality=modality_code(modality.strip())
    )


def publish(url: str, exam: examples.Exam, inline: bool, timeout: float) -> int:
    """Submit the exam's lot: 0 when the registry answers Success, 1 when it refuses, 2 on a transport error."""
    objects, documents = examples.flux1(exam)
    try:
        with ProducerClient(url, timeout=timeout) as client:
            response, _ = client.provide_and_register(
                iti41.ProvideAndRegisterRequest(objects, documents), mtom=not inline
            )
    except TransportError as exc:
        print(f"vendor_producer: {exc}", file=sys.stderr)
        return 2
    print(f"vendor_producer: study {exam.study_uid} accession {exam.accession_number}: {response.status}", flush=True)
    for error in response.errors:
        print(f"  {error}", file=sys.stderr)
    return 0 if response.ok else 1


#: the statuses an update names, by their short name
STATUSES = {
    "Approved": md.APPROVED,
    "Deprecated": md.DEPRECATED,
    "Archived": md.ARCHIVED,
    "Deleted": md.DELETED,
}


def update(url: str, exam: examples.Exam, args: argparse.Namespace) -> int:
    """Flux 3 (ITI-57) on the KOS Fiche of ``exam``: ``--update status`` (``--entry-uuid``, ``--from``, ``--to``)
    or ``--update new-version`` (``--logical-id``, ``--document-uid``: the KOS Fiche again, masked to
    professionals). 0 when the registry answers Success, 1 when it refuses, 2 on a usage or transport error."""
    fresh = f"{examples.ORG_ROOT}.3.{time.time_ns()}"
    if args.update == "status":
        if not args.entry_uuid or args.from_status not in STATUSES or args.to_status not in STATUSES:
            print("vendor_producer: --update status needs --entry-uuid, --from and --to", file=sys.stderr)
            return 2
        objects = examples.flux3_status(
            exam,
            target=args.entry_uuid,
            original=STATUSES[args.from_status],
            new=STATUSES[args.to_status],
            submission_set_uid=fresh,
        )
    else:
        if not args.logical_id or not args.document_uid:
            print("vendor_producer: --update new-version needs --logical-id and --document-uid", file=sys.stderr)
            return 2
        objects = examples.flux3_new_version(
            exam, logical_id=args.logical_id, unique_id=args.document_uid, submission_set_uid=fresh
        )
    try:
        with ProducerClient(url, update_url=url, timeout=args.timeout) as client:
            response = client.update(objects)
    except TransportError as exc:
        print(f"vendor_producer: {exc}", file=sys.stderr)
        return 2
    print(f"vendor_producer: {args.update} of the KOS Fiche of {exam.accession_number}: {response.status}")
    for error in response.errors:
        print(f"  {error}", file=sys.stderr)
    return 0 if response.ok else 1


def publish_every(args: argparse.Namespace) -> int:
    """On its own (no trigger): a new exam of the patient every ``--every`` seconds, for ``--for`` seconds."""
    deadline = time.monotonic() + args.for_seconds
    n = 0
    while time.monotonic() < deadline:
        n += 1
        accession = f"{args.accession_number or 'ACCV'}{os.getpid()}N{n}"
        modalities = args.modality.split(",")
        modality = modalities[(n - 1) % len(modalities)]
        publish(args.registry_url, exam_for(args.patient_id, accession, modality), args.inline, args.timeout)
        time.sleep(args.every)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("registry_url", help="the registry's ITI-41 endpoint")
    parser.add_argument("patient_id")
    parser.add_argument("accession_number", nargs="?", help="required unless --every (then: a prefix)")
    parser.add_argument(
        "--modality", default="CT", help="the exam's modality, a DICOM code (default CT); with --every, a list A,B,…"
    )
    parser.add_argument("--inline", action="store_true", help="documents inline in base64 instead of MTOM/XOP")
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--every", type=float, help="publish a new exam every S seconds (a producer without trigger)")
    parser.add_argument("--for", dest="for_seconds", type=float, default=600.0, help="with --every: stop after S s")
    parser.add_argument(
        "--update",
        choices=("status", "new-version"),
        help="update the KOS Fiche (Flux 3) instead: registry_url is ITI-57",
    )
    parser.add_argument("--entry-uuid", help="--update status: the Fiche's entryUUID")
    parser.add_argument("--from", dest="from_status", help="--update status: its status now (Approved, Archived…)")
    parser.add_argument("--to", dest="to_status", help="--update status: its new status")
    parser.add_argument("--logical-id", help="--update new-version: the Fiche's logicalID")
    parser.add_argument("--document-uid", help="--update new-version: the document's uniqueId")
    args = parser.parse_args(argv)
    try:
        if args.every is not None:
            for modality in args.modality.split(","):
                exam_for(args.patient_id, "ACC", modality)  # the patient and the modalities are usable
            return publish_every(args)
        exam = exam_for(args.patient_id, args.accession_number or "", args.modality)
    except ValueError as exc:
        print(f"vendor_producer: {exc}", file=sys.stderr)
        return 2
    if args.update:
        return update(args.registry_url, exam, args)
    return publish(args.registry_url, exam, args.inline, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
