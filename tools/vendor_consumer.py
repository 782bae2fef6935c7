"""Play a vendor's document consumer for `tox -e consumer`: find and retrieve the documents of an exam.

    python tools/vendor_consumer.py REGISTRY_URL PATIENT_ID ACCESSION_NUMBER [--timeout S]

Searches the patient's approved documents (Flux 5, ITI-18 FindDocuments on ``REGISTRY_URL/iti18``), then
retrieves (Flux 7, ITI-43 on ``REGISTRY_URL/iti43``) in one request every document found whose referenceIdList
carries the accession number, with our consumer client. Exit 0 when at least one document was retrieved, 1
otherwise, 2 on a usage or transport error. It is what `presets/consumer-trigger.toml` runs as the consumer's
trigger.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulators.consumer.client import ConsumerClient, TransportError
from xdsi.model.identifiers import ACCESSION, ReferenceId
from xdsi.model.retrieve import DocumentRequest


def carries_accession(reference_ids: list[str], accession_number: str) -> bool:
    """One of ``reference_ids`` (CXi values) is ``accession_number`` typed as an accession number."""
    for value in reference_ids:
        ref = ReferenceId.parse(value)
        if ref.id == accession_number and ref.type == ACCESSION:
            return True
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("registry_url", help="the registry's base URL (its ITI-18 and ITI-43 endpoints under it)")
    parser.add_argument("patient_id", help="the patient's identifier (a CX: INS^^^&OID&ISO^NH)")
    parser.add_argument("accession_number")
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args(argv)
    if not args.patient_id.strip() or not args.accession_number.strip():
        print("vendor_consumer: empty patient id or accession number", file=sys.stderr)
        return 2
    base = args.registry_url.rstrip("/")
    accession = args.accession_number.strip()
    try:
        with ConsumerClient(f"{base}/iti18", timeout=args.timeout, retrieve_url=f"{base}/iti43") as client:
            found = client.find_documents(args.patient_id.strip())
            if not found.response.ok:
                print(f"vendor_consumer: search refused: {found.response.status}", file=sys.stderr)
                for error in found.response.errors:
                    print(f"  {error}", file=sys.stderr)
                return 1
            wanted = [e for e in found.objects.entries if carries_accession(list(e.reference_ids), accession)]
            if not wanted:
                print(f"vendor_consumer: no document of accession {accession} among {len(found.objects.entries)}")
                return 1
            requests = [DocumentRequest(e.repository_unique_id or "", e.unique_id or "") for e in wanted]
            retrieved = client.retrieve(requests)
    except TransportError as exc:
        print(f"vendor_consumer: {exc}", file=sys.stderr)
        return 2
    for error in retrieved.response.errors:
        print(f"  {error}", file=sys.stderr)
    print(
        f"vendor_consumer: accession {accession}: {len(wanted)} found, {len(retrieved.documents)} retrieved "
        f"({retrieved.response.status})"
    )
    return 0 if retrieved.documents else 1


if __name__ == "__main__":
    sys.exit(main())
