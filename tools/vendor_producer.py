"""Play a vendor's producer (PACS/RIS) for `tox -e producer`: publish the example exam to a registry.

    python tools/vendor_producer.py REGISTRY_ITI41_URL PATIENT_ID ACCESSION_NUMBER [--modality CT] [--inline]
        [--timeout S]

Builds the example exam (a KOS and its report, xdsi.messages.examples) for the given patient (an INS, or a
CX ``INS^^^&OID&ISO^NH`` whose first component is taken), accession number and modality (a DICOM code, CT by
default), its Study Instance UID derived from the accession number, and submits it (Flux 1,
ITI-41) with our producer client. Exit 0 when the registry answers Success, 1 when it refuses, 2 on a usage
or transport error. It is what `presets/producer-trigger.toml` runs as the producer's trigger.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulators.producer.client import ProducerClient, TransportError
from xdsi.dicom.kos import modality_code
from xdsi.messages import examples, iti41


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("registry_url", help="the registry's ITI-41 endpoint")
    parser.add_argument("patient_id")
    parser.add_argument("accession_number")
    parser.add_argument("--modality", default="CT", help="the exam's modality, a DICOM code (default CT)")
    parser.add_argument("--inline", action="store_true", help="documents inline in base64 instead of MTOM/XOP")
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args(argv)
    try:
        exam = exam_for(args.patient_id, args.accession_number, args.modality)
    except ValueError as exc:
        print(f"vendor_producer: {exc}", file=sys.stderr)
        return 2
    objects, documents = examples.flux1(exam)
    try:
        with ProducerClient(args.registry_url, timeout=args.timeout) as client:
            response, _ = client.provide_and_register(
                iti41.ProvideAndRegisterRequest(objects, documents), mtom=not args.inline
            )
    except TransportError as exc:
        print(f"vendor_producer: {exc}", file=sys.stderr)
        return 2
    print(f"vendor_producer: study {exam.study_uid} accession {exam.accession_number}: {response.status}")
    for error in response.errors:
        print(f"  {error}", file=sys.stderr)
    return 0 if response.ok else 1


if __name__ == "__main__":
    sys.exit(main())
