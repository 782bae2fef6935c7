"""Play a vendor's document consumer for `tox -e consumer`: find and retrieve the documents of an exam.

    python tools/vendor_consumer.py REGISTRY_URL PATIENT_ID ACCESSION_NUMBER [--timeout S]
    python tools/vendor_consumer.py REGISTRY_URL PATIENT_ID --every S [--for S]
        [--images [--rad69-url URL] [--dicom AET@HOST:PORT] [--move AET@HOST:PORT] [--method M]]

Searches the patient's approved documents (Flux 5, ITI-18 FindDocuments on ``REGISTRY_URL/iti18``), then
retrieves (Flux 7, ITI-43 on ``REGISTRY_URL/iti43``) in one request every document found whose referenceIdList
carries the accession number, with our consumer client. Exit 0 when at least one document was retrieved, 1
otherwise, 2 on a usage or transport error. It is what `presets/consumer-trigger.toml` runs as the consumer's
trigger.

With ``--every S`` it plays a consumer without trigger (`presets/consumer-awaited.toml`), a viewer opening each
new document of the patient: every S seconds it searches the patient's documents and retrieves those it has not
seen yet, until ``--for`` seconds have passed. With ``--images`` it then retrieves the images each KOS
references, by RAD-69 (``--rad69-url``), C-GET (``--dicom``), C-MOVE to a storage SCP of its own (``--dicom`` and
``--move``) and WADO-RS (the KOS's Retrieve URL), or by ``--method`` only, with our imaging consumer client (with
an accession number: what `presets/consumer-trigger.toml` runs as the consumer's images_trigger).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulators.consumer.client import ConsumerClient, TransportError
from xdsi.model.identifiers import ReferenceId
from xdsi.model.retrieve import DocumentRequest


def view_images(
    kos_data: bytes, rad69_url: str | None, dicom: str | None, method: str | None = None, move: str | None = None
) -> bool:
    """Retrieve the images a KOS references as a viewer would, by ``method`` or every method it can: RAD-69
    (``rad69_url``), C-GET (``dicom`` = ``AET@HOST:PORT``) and WADO-RS (the KOS's Retrieve URL). True when every
    retrieve brought every instance."""
    from simulators.imaging_consumer.client import retrieve_cget, retrieve_cmove, retrieve_rad69, retrieve_wado
    from xdsi.dicom.kos import KosError, parse_kos

    try:
        kos = parse_kos(kos_data)
    except KosError as exc:
        print(f"vendor_consumer: not a KOS: {exc}", file=sys.stderr)
        return False
    results = []
    if rad69_url and method in (None, "RAD-69"):
        results.append(retrieve_rad69(rad69_url, kos, timeout=60))
    if dicom and method in (None, "C-GET"):
        aet, _, address = dicom.partition("@")
        host, _, port = address.rpartition(":")
        results.append(retrieve_cget(host, int(port), aet, kos, calling_aet="VENDOR_VIEWER", timeout=60))
    if dicom and move and method in (None, "C-MOVE"):
        aet, _, address = dicom.partition("@")
        host, _, port = address.rpartition(":")
        own, _, own_address = move.partition("@")
        own_host, _, own_port = own_address.rpartition(":")
        results.append(
            retrieve_cmove(
                host, int(port), aet, kos, calling_aet=own, store_host=own_host, store_port=int(own_port), timeout=60
            )
        )
    if kos.referenced and kos.referenced[0].retrieve_url and method in (None, "WADO-RS"):
        results.append(retrieve_wado(None, kos, timeout=60))
    for r in results:
        print(f"vendor_consumer: {r.method}: {len(r.datasets)} instance(s) {r.status} {r.errors[:2]}", flush=True)
    return bool(results) and all(r.ok for r in results)


def consume(
    client: ConsumerClient,
    patient_id: str,
    accession: str | None,
    seen: set[str],
    images: tuple[str | None, str | None, str | None, str | None] | None = None,
) -> int:
    """Search the patient's documents, retrieve those of ``accession`` (None: every document whose uniqueId is
    not in ``seen``, which is then updated), and with ``images`` (RAD-69 URL, C-GET ``AET@HOST:PORT``) the images
    of each KOS retrieved. 0 when documents were retrieved, 1 otherwise."""
    found = client.find_documents(patient_id)
    if not found.response.ok:
        print(f"vendor_consumer: search refused: {found.response.status}", file=sys.stderr)
        for error in found.response.errors:
            print(f"  {error}", file=sys.stderr)
        return 1
    if accession is not None:
        wanted = [
            e for e in found.objects.entries if accession in {ReferenceId.parse(v).id for v in e.accession_numbers}
        ]
    else:
        wanted = [e for e in found.objects.entries if e.unique_id not in seen]
        seen.update(e.unique_id or "" for e in wanted)
    if not wanted:
        print(f"vendor_consumer: no new document among {len(found.objects.entries)}", flush=True)
        return 1
    retrieved = client.retrieve([DocumentRequest(e.repository_unique_id or "", e.unique_id or "") for e in wanted])
    for error in retrieved.response.errors:
        print(f"  {error}", file=sys.stderr)
    viewed = True
    if images is not None:
        manifests = [doc.content for doc in retrieved.documents if doc.content[128:132] == b"DICM"]
        viewed = bool(manifests) and all([view_images(kos, *images) for kos in manifests])
    print(
        f"vendor_consumer: {len(wanted)} found, {len(retrieved.documents)} retrieved ({retrieved.response.status})",
        flush=True,
    )
    return 0 if retrieved.documents and viewed else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("registry_url", help="the registry's base URL (its ITI-18 and ITI-43 endpoints under it)")
    parser.add_argument("patient_id", help="the patient's identifier (a CX: INS^^^&OID&ISO^NH)")
    parser.add_argument("accession_number", nargs="?", help="required unless --every")
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--every", type=float, help="search every S seconds, retrieve what is new (no trigger)")
    parser.add_argument("--for", dest="for_seconds", type=float, default=600.0, help="with --every: stop after S s")
    parser.add_argument("--images", action="store_true", help="then retrieve the images of each KOS retrieved")
    parser.add_argument("--rad69-url", help="with --images: the imaging source's RAD-69 endpoint")
    parser.add_argument("--dicom", help="with --images: the imaging source for C-GET, AET@HOST:PORT")
    parser.add_argument(
        "--method", choices=("RAD-69", "C-GET", "C-MOVE", "WADO-RS"), help="with --images: this one only"
    )
    parser.add_argument("--move", help="with --images: C-MOVE to our own storage SCP, AET@HOST:PORT")
    args = parser.parse_args(argv)
    accession = (args.accession_number or "").strip() or None
    if not args.patient_id.strip() or (accession is None and args.every is None):
        print("vendor_consumer: empty patient id or accession number", file=sys.stderr)
        return 2
    base = args.registry_url.rstrip("/")
    deadline = time.monotonic() + (args.for_seconds if args.every is not None else 0)
    seen: set[str] = set()
    while True:
        try:
            with ConsumerClient(f"{base}/iti18", timeout=args.timeout, retrieve_url=f"{base}/iti43") as client:
                images = (args.rad69_url, args.dicom, args.method, args.move) if args.images else None
                status = consume(client, args.patient_id.strip(), accession, seen, images)
        except TransportError as exc:
            print(f"vendor_consumer: {exc}", file=sys.stderr)
            status = 2
        if args.every is None:
            return status
        if time.monotonic() >= deadline:
            return 0
        time.sleep(args.every)


if __name__ == "__main__":
    sys.exit(main())
