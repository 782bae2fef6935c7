"""The document sharing manager's domain: XDS.b registry + repository semantics over a durable store.

Flux 1 → 2 (ITI-41), 3 → 4 (ITI-57), 5 → 6 (ITI-18), 7 → 8 (ITI-43). The HTTP/SOAP server validates each
request before calling in here; this module still refuses, with the XDS error code of ITI TF-3 4.2.4 (reference
xds-facts §4), anything it cannot register, and answers every failure as a ``Failure`` response, never an
exception. Thread-safe: the store pools connections and serialises what must be.

Choices where the specifications leave one (also in each function's docstring):

* ITI-41: a uniqueId already registered is refused with XDSDuplicateUniqueIdInRegistry even when the content
  is identical (the codeContext says whether it is); the submitter's ``lid`` and ``VersionInfo`` are replaced
  (lid = entryUUID, version 1); submitter-assigned ``urn:uuid:`` ids are kept, symbolic ids replaced. When a
  document in Folders is replaced (RPLC, XFRM_RPLC) the replacement is added to the same Folders (ITI TF-3
  4.2.2.2.3).
* ITI-57: a new version is Approved whatever the status of the version it replaces (an Archived document
  updated becomes Approved again — the CI-SIS has no rule; Approved is what IHE specifies); the latest version
  must be Approved or Archived (a Deprecated or Deleted document is not updated:
  XDSMetadataUpdateOperationError); hash, size, repositoryUniqueId and URI are copied from the previous
  version; Folder memberships are propagated to the new version unless ``AssociationPropagation`` is ``no``.
  Status transitions allowed: Approved↔Deprecated (IHE), Approved→Archived, Archived→Approved,
  Approved→Deleted, Archived→Deleted (CI-SIS, xds-facts §5.2); an older (non-latest) version cannot be made
  Approved or Archived; associations: Approved↔Deprecated only. The UpdateAvailabilityStatus and
  SubmitAssociation associations are recorded like any other (an audit trail of the update).
* ITI-43: the repository serves a document whatever the registry status of its entry (Deleted included).
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from lxml import etree

from simulators.registry import queries
from simulators.registry.store import Store, StoreError, Tx, UniqueViolation, now_dtm
from simulators.registry.store import objects as ob
from xdsi.messages.iti41 import ProvideAndRegisterRequest
from xdsi.model import metadata as md
from xdsi.model.metadata import Association, DocumentEntry, Folder, RegistryObjects, SubmissionSet
from xdsi.model.responses import FAILURE, PARTIAL_SUCCESS, SUCCESS, RegistryResponse
from xdsi.model.responses import RegistryError as XdsError
from xdsi.model.retrieve import DocumentRequest, RetrievedDocument, RetrieveResponse
from xdsi.model.storedquery import StoredQuery

__all__ = ["ALLOWED_TRANSITIONS", "BulkResult", "Registry", "RegistryError"]

log = logging.getLogger(__name__)

# XDS error codes (ITI TF-3 Table 4.2.4.1-2; xds-facts §4)
DUPLICATE_IN_REGISTRY = "XDSDuplicateUniqueIdInRegistry"
DUPLICATE_IN_MESSAGE = "XDSRegistryDuplicateUniqueIdInMessage"
NON_IDENTICAL_HASH = "XDSNonIdenticalHash"
NON_IDENTICAL_SIZE = "XDSNonIdenticalSize"
MISSING_DOCUMENT = "XDSMissingDocument"
MISSING_DOCUMENT_METADATA = "XDSMissingDocumentMetadata"
PATIENT_ID_DOES_NOT_MATCH = "XDSPatientIdDoesNotMatch"
UNRESOLVED_REFERENCE = "UnresolvedReferenceException"
DEPRECATED_DOCUMENT = "XDSRegistryDeprecatedDocumentError"
REGISTRY_METADATA_ERROR = "XDSRegistryMetadataError"
REPOSITORY_METADATA_ERROR = "XDSRepositoryMetadataError"
REGISTRY_ERROR = "XDSRegistryError"
REPOSITORY_ERROR = "XDSRepositoryError"
METADATA_UPDATE_ERROR = "XDSMetadataUpdateError"
METADATA_UPDATE_OPERATION_ERROR = "XDSMetadataUpdateOperationError"
METADATA_VERSION_ERROR = "XDSMetadataVersionError"
PATIENT_ID_RECONCILIATION_ERROR = "XDSPatientIDReconciliationError"
UNKNOWN_REPOSITORY = "XDSUnknownRepositoryId"
DOCUMENT_UNIQUE_ID_ERROR = "XDSDocumentUniqueIdError"

#: (OriginalStatus, NewStatus) an ITI-57 UpdateAvailabilityStatus may ask for on a DocumentEntry or Folder
ALLOWED_TRANSITIONS: frozenset[tuple[str, str]] = frozenset(
    {
        (md.APPROVED, md.DEPRECATED),
        (md.DEPRECATED, md.APPROVED),
        (md.APPROVED, md.ARCHIVED),
        (md.ARCHIVED, md.APPROVED),
        (md.APPROVED, md.DELETED),
        (md.ARCHIVED, md.DELETED),
    }
)
#: … and on an Association
ALLOWED_ASSOCIATION_TRANSITIONS: frozenset[tuple[str, str]] = frozenset(
    {(md.APPROVED, md.DEPRECATED), (md.DEPRECATED, md.APPROVED)}
)
_REPLACING = (md.RPLC, md.XFRM_RPLC)
_DOCUMENT_RELATIONS = (md.RPLC, md.APND, md.XFRM, md.XFRM_RPLC)
_UPDATE_ONLY = (md.UPDATE_AVAILABILITY_STATUS, md.SUBMIT_ASSOCIATION)


class RegistryError(Exception):
    """A refusal: one or more XDS errors (answered as a ``Failure`` RegistryResponse)."""

    def __init__(self, *errors: XdsError) -> None:
        super().__init__("; ".join(f"{e.code}: {e.context}" for e in errors))
        self.errors: list[XdsError] = list(errors)


def _error(code: str, context: str, location: str | None = None) -> XdsError:
    return XdsError(code=code, context=context, location=location or None)


def _sha1(content: bytes) -> str:
    return hashlib.sha1(content).hexdigest()


def _new_uuid() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


@dataclass
class BulkResult:
    """What :meth:`Registry.load_bulk` did: how many submissions were registered, and the refusals."""

    registered: int = 0
    failures: list[tuple[int, RegistryResponse]] = field(default_factory=list)


@dataclass
class _Entry:
    de: DocumentEntry
    original_id: str
    content: bytes | None = None


@dataclass
class _Plan:
    """A submission checked on its own, with its ids assigned, before it meets the database."""

    ss: SubmissionSet
    ss_original_id: str
    entries: list[_Entry] = field(default_factory=list)
    folders: list[tuple[Folder, str]] = field(default_factory=list)
    associations: list[tuple[Association, str]] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)  # original id → entryUUID
    others: dict[str, str] = field(default_factory=dict)  # entryUUID → kind, of new versions (ITI-57)
    given_uuids: set[str] = field(default_factory=set)  # ids the submitter assigned (urn:uuid:…)
    errors: list[XdsError] = field(default_factory=list)
    fragments: dict[str, str] = field(default_factory=dict)  # entryUUID → ebRIM, encoded before the write lock

    def encode(self) -> None:
        """Encode the objects whose registered form is final (ITI-41) outside the write transaction."""
        self.fragments[self.ss.entry_uuid] = ob.submission_set_fragment(self.ss)
        for e in self.entries:
            self.fragments[e.de.entry_uuid] = ob.entry_fragment(e.de)
        for fd, _ in self.folders:
            self.fragments[fd.entry_uuid] = ob.folder_fragment(fd)
        for a, _ in self.associations:
            self.fragments[a.id] = ob.association_fragment(a)

    def check(self) -> None:
        if self.errors:
            raise RegistryError(*self.errors)

    def label(self, kind: str, original_id: str) -> str:
        new = self.ids.get(original_id, original_id)
        return f"{kind} {original_id}" if new == original_id else f"{kind} {original_id} ({new})"

    @property
    def kinds(self) -> dict[str, str]:
        """entryUUID → kind of the objects of this submission."""
        out = {self.ss.entry_uuid: ob.SUBMISSION_SET}
        out.update({e.de.entry_uuid: ob.ENTRY for e in self.entries})
        out.update({f.entry_uuid: ob.FOLDER for f, _ in self.folders})
        out.update({a.id: ob.ASSOCIATION for a, _ in self.associations})
        out.update(self.others)
        return out


class Registry:
    """XDS.b document registry + repository (the DMP's role) on SQLite or PostgreSQL.

    ``store_url``: ``sqlite:///PATH`` (default ``registry.sqlite`` in the working directory),
    ``sqlite:///:memory:``, or ``postgresql://user@host:port/db``. ``max_results``: above it a stored query
    answers XDSTooManyResults. ``pool_size``: connections kept open."""

    def __init__(
        self,
        store_url: str = "sqlite:///registry.sqlite",
        repository_unique_id: str = "1.2.250.1.999.42.3.1",
        home_community_id: str | None = None,
        *,
        max_results: int = 10_000,
        pool_size: int = 8,
    ) -> None:
        self.store = Store(store_url, pool_size=pool_size)
        self.store_url = store_url
        self.repository_unique_id = repository_unique_id
        self.home_community_id = home_community_id
        self.max_results = max_results

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ==============================================================================================
    # ITI-41 Provide and Register Document Set-b (Flux 1 → 2)

    def provide_and_register(self, request: ProvideAndRegisterRequest) -> RegistryResponse:
        """Register a whole submission set or nothing (one transaction; Success only after a durable commit).

        Refusals: XDSRegistryMetadataError (no or several SubmissionSets, missing uniqueId/patientId, entryUUID
        given twice or already registered, update-only association), XDSPatientIdDoesNotMatch (entry/folder of
        another patient than the SubmissionSet, or a referenced document/folder of another patient),
        XDSRegistryDuplicateUniqueIdInMessage, XDSDuplicateUniqueIdInRegistry, XDSMissingDocument (stable entry
        without document), XDSMissingDocumentMetadata (document without entry), XDSRepositoryMetadataError
        (document given twice), XDSNonIdenticalHash / XDSNonIdenticalSize (submitted hash/size ≠ the
        document's), UnresolvedReferenceException (association end neither in the submission nor registered;
        codeContext = that id), XDSRegistryDeprecatedDocumentError (RPLC/APND/XFRM/XFRM_RPLC target not
        Approved)."""
        return self._guard(lambda: self._provide_and_register(request), DUPLICATE_IN_REGISTRY)

    def _provide_and_register(self, request: ProvideAndRegisterRequest) -> RegistryResponse:
        plan = self._plan_pnr(request)
        when = now_dtm()
        with self.store.write(lock_keys=[plan.ss.patient_id or ""]) as tx:
            self._register_pnr(tx, plan, when)
        return RegistryResponse()

    def load_bulk(self, submissions: Iterable[ProvideAndRegisterRequest], batch_size: int = 500) -> BulkResult:
        """Register many submissions quickly: one transaction per ``batch_size`` submissions, each submission in
        its own savepoint (a refused one is rolled back alone and reported in ``failures`` with its index).
        Same checks as :meth:`provide_and_register`. On PostgreSQL no advisory lock is taken (the unique
        constraints still guard uniqueness): meant for loading a store, not for racing other writers."""
        result = BulkResult()
        iterator = iter(enumerate(submissions))
        while True:
            batch = list(itertools.islice(iterator, batch_size))
            if not batch:
                with self.store.write() as tx:  # the pool is LIFO: most likely the connection the load used
                    tx.bulk_cache(False)
                self.store.optimize(analyze=result.registered > 0)
                return result
            when = now_dtm()
            with self.store.write() as tx:
                tx.bulk_cache(True)
                for index, request in batch:
                    try:
                        plan = self._plan_pnr(request)
                        with tx.savepoint():
                            self._register_pnr(tx, plan, when)
                        result.registered += 1
                    except RegistryError as exc:
                        result.failures.append((index, RegistryResponse.failure(*exc.errors)))
                    except UniqueViolation as exc:
                        result.failures.append(
                            (index, RegistryResponse.failure(_unique_violation(exc, DUPLICATE_IN_REGISTRY)))
                        )

    def _assign(self, plan: _Plan, kind: str, original_id: str, location: str) -> str:
        """The entryUUID of a submitted object: kept when the submitter gave a ``urn:uuid:``, new otherwise."""
        if not original_id:
            plan.errors.append(_error(REGISTRY_METADATA_ERROR, f"{kind} without id", location))
            original_id = f"(no id #{len(plan.ids)})"
        if original_id in plan.ids:
            plan.errors.append(
                _error(
                    REGISTRY_METADATA_ERROR, f"{kind} {original_id}: id used by two objects of the message", location
                )
            )
            return plan.ids[original_id]
        if original_id.lower().startswith("urn:uuid:"):
            new = original_id
            plan.given_uuids.add(new)
        else:
            new = _new_uuid()
        plan.ids[original_id] = new
        return new

    def _plan_submission_set(self, objects: RegistryObjects) -> _Plan:
        if len(objects.submission_sets) != 1:
            raise RegistryError(
                _error(
                    REGISTRY_METADATA_ERROR,
                    f"a submission carries exactly one SubmissionSet; found {len(objects.submission_sets)}",
                )
            )
        original = objects.submission_sets[0]
        ss = dataclasses.replace(original, status=md.APPROVED, home=self.home_community_id or original.home)
        plan = _Plan(ss=ss, ss_original_id=original.entry_uuid)
        ss.entry_uuid = self._assign(plan, "SubmissionSet", original.entry_uuid, original.location)
        label = plan.label("SubmissionSet", original.entry_uuid)
        if not ss.patient_id:
            plan.errors.append(_error(REGISTRY_METADATA_ERROR, f"{label}: no patientId", original.location))
        if not ss.unique_id:
            plan.errors.append(_error(REGISTRY_METADATA_ERROR, f"{label}: no uniqueId", original.location))
        return plan

    def _plan_folders(self, plan: _Plan, folders: list[Folder], when: str) -> None:
        seen: dict[str, str] = {}
        for original in folders:
            fd = dataclasses.replace(original, status=md.APPROVED, version="1", last_update_time=when)
            fd.home = self.home_community_id or original.home
            fd.entry_uuid = self._assign(plan, "Folder", original.entry_uuid, original.location)
            label = plan.label("Folder", original.entry_uuid)
            if not fd.logical_id or fd.logical_id == original.entry_uuid:
                fd.logical_id = fd.entry_uuid
            self._check_identity(plan, label, fd.unique_id, fd.patient_id, original.location, seen)
            plan.folders.append((fd, original.entry_uuid))

    def _check_identity(
        self, plan: _Plan, label: str, unique_id: str | None, patient_id: str | None, loc: str, seen: dict[str, str]
    ) -> None:
        if not unique_id:
            plan.errors.append(_error(REGISTRY_METADATA_ERROR, f"{label}: no uniqueId", loc))
        elif unique_id in seen:
            plan.errors.append(
                _error(DUPLICATE_IN_MESSAGE, f"{label}: uniqueId {unique_id} already used by {seen[unique_id]}", loc)
            )
        else:
            seen[unique_id] = label
        if not patient_id:
            plan.errors.append(_error(REGISTRY_METADATA_ERROR, f"{label}: no patientId", loc))
        elif plan.ss.patient_id and patient_id != plan.ss.patient_id:
            plan.errors.append(
                _error(
                    PATIENT_ID_DOES_NOT_MATCH,
                    f"{label}: patientId {patient_id} differs from the SubmissionSet's {plan.ss.patient_id}",
                    loc,
                )
            )

    def _plan_pnr(self, request: ProvideAndRegisterRequest) -> _Plan:
        objects = request.objects
        when = now_dtm()
        plan = self._plan_submission_set(objects)
        documents: dict[str, bytes | None] = {}
        unresolved: set[str] = set()
        for doc in request.documents:
            if doc.id in documents:
                plan.errors.append(
                    _error(REPOSITORY_METADATA_ERROR, f"Document {doc.id}: given twice in the message", doc.location)
                )
            if doc.occurrences.get("content") == 0:
                unresolved.add(doc.id)
            documents[doc.id] = None if doc.id in unresolved else doc.content
        seen: dict[str, str] = {}
        for original in objects.entries:
            de = dataclasses.replace(
                original,
                status=md.APPROVED,
                version="1",
                object_type=original.object_type or md.STABLE,
                repository_unique_id=self.repository_unique_id,
                home=self.home_community_id or original.home,
            )
            de.entry_uuid = self._assign(plan, "DocumentEntry", original.entry_uuid, original.location)
            de.logical_id = de.entry_uuid
            label = plan.label("DocumentEntry", original.entry_uuid)
            self._check_identity(plan, label, de.unique_id, de.patient_id, original.location, seen)
            content = documents.pop(original.entry_uuid, None) if original.entry_uuid in documents else None
            if de.object_type == md.ON_DEMAND:
                plan.entries.append(_Entry(de, original.entry_uuid, None))
                continue
            if content is None:
                why = (
                    f"the Document {original.entry_uuid} has no content (unresolved XOP include)"
                    if original.entry_uuid in unresolved
                    else f"no Document with id {original.entry_uuid} in the message"
                )
                plan.errors.append(
                    _error(MISSING_DOCUMENT, f"{label}: {why} (uniqueId {de.unique_id})", original.location)
                )
                continue
            digest, size = _sha1(content), len(content)
            if original.hash is not None and original.hash.strip().lower() != digest:
                plan.errors.append(
                    _error(
                        NON_IDENTICAL_HASH,
                        f"{label}: hash {original.hash} submitted, the document's SHA-1 is {digest}",
                        original.location,
                    )
                )
            if original.size is not None and original.size.strip() != str(size):
                plan.errors.append(
                    _error(
                        NON_IDENTICAL_SIZE,
                        f"{label}: size {original.size} submitted, the document has {size} bytes",
                        original.location,
                    )
                )
            de.hash, de.size = digest, str(size)
            plan.entries.append(_Entry(de, original.entry_uuid, content))
        for doc_id in documents:
            location = next((d.location for d in request.documents if d.id == doc_id), "")
            plan.errors.append(
                _error(MISSING_DOCUMENT_METADATA, f"Document {doc_id}: no DocumentEntry with this id", location)
            )
        self._plan_folders(plan, objects.folders, when)
        self._plan_associations(plan, objects.associations, forbidden=_UPDATE_ONLY)
        plan.check()
        plan.encode()
        return plan

    def _plan_associations(self, plan: _Plan, associations: list[Association], forbidden: tuple[str, ...]) -> None:
        # ids first: an association may point at another association of the message
        assigned = [(a, self._assign(plan, "Association", a.id, a.location)) for a in associations]
        for original, new_id in assigned:
            a = dataclasses.replace(original, id=new_id, status=md.APPROVED)
            a.source = plan.ids.get(original.source, original.source)
            a.target = plan.ids.get(original.target, original.target)
            label = plan.label("Association", original.id)
            if original.type in forbidden:
                plan.errors.append(
                    _error(
                        REGISTRY_METADATA_ERROR if forbidden is _UPDATE_ONLY else METADATA_UPDATE_OPERATION_ERROR,
                        f"{label}: association type {original.type} is not allowed in this transaction",
                        original.location,
                    )
                )
            for end, value in (("sourceObject", a.source), ("targetObject", a.target)):
                if not value.lower().startswith("urn:uuid:"):
                    plan.errors.append(
                        _error(UNRESOLVED_REFERENCE, value, _end_location(original.location, label, end))
                    )
            plan.associations.append((a, original.id))

    def _check_registered_uuids(self, tx: Tx, plan: _Plan) -> None:
        if not plan.given_uuids:
            return
        for found in ob.lookup(tx, plan.given_uuids).values():
            plan.errors.append(
                _error(
                    REGISTRY_METADATA_ERROR,
                    f"{found.entry_uuid}: entryUUID already registered (a {ob.KIND_NAMES[found.kind]})",
                )
            )

    def _check_registered_unique_ids(self, tx: Tx, plan: _Plan, entries: bool = True) -> None:
        ss = plan.ss
        if ss.unique_id and ob.existing_unique_ids(tx, ob.SUBMISSION_SET, [ss.unique_id]):
            plan.errors.append(
                _error(
                    DUPLICATE_IN_REGISTRY,
                    f"{plan.label('SubmissionSet', plan.ss_original_id)}: uniqueId {ss.unique_id} already registered",
                    ss.location,
                )
            )
        if entries and plan.entries:
            known = ob.existing_unique_ids(tx, ob.ENTRY, [e.de.unique_id or "" for e in plan.entries])
            for e in plan.entries:
                uid = e.de.unique_id or ""
                if uid in known:
                    old_hash = ob.stored_hash(tx, uid)
                    same = "the same content" if old_hash == e.de.hash else f"other content (hash {old_hash})"
                    plan.errors.append(
                        _error(
                            DUPLICATE_IN_REGISTRY,
                            f"{plan.label('DocumentEntry', e.original_id)}: uniqueId {uid} already registered "
                            f"(entryUUID {known[uid]}, with {same})",
                            e.de.location,
                        )
                    )
        if plan.folders:
            known = ob.existing_unique_ids(tx, ob.FOLDER, [f.unique_id or "" for f, _ in plan.folders])
            for fd, original_id in plan.folders:
                if (fd.unique_id or "") in known:
                    plan.errors.append(
                        _error(
                            DUPLICATE_IN_REGISTRY,
                            f"{plan.label('Folder', original_id)}: uniqueId {fd.unique_id} already registered "
                            f"(entryUUID {known[fd.unique_id or '']})",
                            fd.location,
                        )
                    )

    def _external(self, tx: Tx, plan: _Plan) -> dict[str, ob.StoredObject]:
        """The registered objects the submission's associations point at; unresolved ends reported."""
        mine = plan.kinds
        wanted = {end for a, _ in plan.associations for end in (a.source, a.target) if end not in mine}
        wanted = {w for w in wanted if w.lower().startswith("urn:uuid:")}
        found = ob.lookup(tx, wanted) if wanted else {}
        for a, original_id in plan.associations:
            for end, value in (("sourceObject", a.source), ("targetObject", a.target)):
                if value in wanted and value not in found:
                    label = plan.label("Association", original_id)
                    plan.errors.append(_error(UNRESOLVED_REFERENCE, value, _end_location(a.location, label, end)))
        return found

    def _register_pnr(self, tx: Tx, plan: _Plan, when: str) -> None:
        self._check_registered_uuids(tx, plan)
        self._check_registered_unique_ids(tx, plan)
        external = self._external(tx, plan)
        plan.check()
        patient = plan.ss.patient_id
        entries = {e.de.entry_uuid: e.de for e in plan.entries}
        folders = {f.entry_uuid: f for f, _ in plan.folders}
        deprecate: dict[str, ob.StoredObject] = {}
        touched: set[int] = set()
        replacements: list[tuple[str, str]] = []  # (old entryUUID, new entryUUID)
        for a, original_id in plan.associations:
            label = plan.label("Association", original_id)
            if a.type in _DOCUMENT_RELATIONS:
                if a.source not in entries:
                    plan.errors.append(
                        _error(
                            REGISTRY_METADATA_ERROR,
                            f"{label}: the source of a {a.type.rsplit(':', 1)[-1]} association is a DocumentEntry "
                            f"of this submission; {a.source} is not",
                            a.location,
                        )
                    )
                    continue
                target = external.get(a.target)
                if target is None or target.kind != ob.ENTRY:
                    what = "an object of this submission" if target is None else f"a {ob.KIND_NAMES[target.kind]}"
                    plan.errors.append(
                        _error(
                            REGISTRY_METADATA_ERROR,
                            f"{label}: target {a.target} is {what}, not a registered DocumentEntry",
                            a.location,
                        )
                    )
                    continue
                if target.status != md.APPROVED or target.entry_uuid in deprecate:
                    status = md.DEPRECATED if target.entry_uuid in deprecate else target.status
                    plan.errors.append(
                        _error(
                            DEPRECATED_DOCUMENT,
                            f"{label}: target DocumentEntry {a.target} is {status.rsplit(':', 1)[-1]}, not Approved",
                            a.location,
                        )
                    )
                    continue
                if target.patient_id != patient:
                    plan.errors.append(
                        _error(
                            PATIENT_ID_DOES_NOT_MATCH,
                            f"{label}: target DocumentEntry {a.target} belongs to patient {target.patient_id}, "
                            f"the submission to {patient}",
                            a.location,
                        )
                    )
                    continue
                if a.type in _REPLACING:
                    deprecate[target.entry_uuid] = target
                    replacements.append((target.entry_uuid, a.source))
            elif a.type == md.HAS_MEMBER:
                self._check_membership(plan, a, label, external, folders, entries, touched)
        plan.check()
        # --- writes ------------------------------------------------------------------------------
        frag = plan.fragments.get
        ob.insert_submission_set(tx, plan.ss, when, frag(plan.ss.entry_uuid))
        for fd, _ in plan.folders:
            ob.insert_folder(tx, fd, when, frag(fd.entry_uuid))
        for e in plan.entries:
            ob.insert_entry(tx, e.de, when, frag(e.de.entry_uuid))
            if e.content is not None:
                ob.insert_document(
                    tx, e.de.unique_id or "", e.de.mime_type, e.de.hash or "", len(e.content), e.content, when
                )
        for a, _ in plan.associations:
            ob.insert_association(tx, a, when, frag(a.id))
        for target in deprecate.values():
            ob.set_status(tx, ob.ENTRY, target.id, md.DEPRECATED)
        for old, new in replacements:
            touched |= self._propagate_folders(tx, old, new, when)
        for folder_id in touched:
            ob.touch_folder(tx, folder_id, when)

    def _check_membership(
        self,
        plan: _Plan,
        a: Association,
        label: str,
        external: dict[str, ob.StoredObject],
        folders: dict[str, Folder],
        entries: dict[str, DocumentEntry],
        touched: set[int],
    ) -> None:
        """HasMember SS→DE/Folder/Association and Folder→DE: the ends exist and belong to the patient."""
        patient = plan.ss.patient_id
        source_folder = a.source in folders or (a.source in external and external[a.source].kind == ob.FOLDER)
        if a.source == plan.ss.entry_uuid or source_folder:
            target = external.get(a.target)
            if target is not None and target.kind in (ob.ENTRY, ob.FOLDER) and target.patient_id != patient:
                plan.errors.append(
                    _error(
                        PATIENT_ID_DOES_NOT_MATCH,
                        f"{label}: member {ob.KIND_NAMES[target.kind]} {a.target} belongs to patient "
                        f"{target.patient_id}, the submission to {patient}",
                        a.location,
                    )
                )
            if source_folder and a.source in external:
                folder = external[a.source]
                if folder.patient_id != patient:
                    plan.errors.append(
                        _error(
                            PATIENT_ID_DOES_NOT_MATCH,
                            f"{label}: Folder {a.source} belongs to patient {folder.patient_id}, "
                            f"the submission to {patient}",
                            a.location,
                        )
                    )
                else:
                    touched.add(folder.id)
            if source_folder and not (a.target in entries or (target is not None and target.kind == ob.ENTRY)):
                plan.errors.append(
                    _error(
                        REGISTRY_METADATA_ERROR,
                        f"{label}: a Folder's member is a DocumentEntry; {a.target} is not",
                        a.location,
                    )
                )

    def _propagate_folders(self, tx: Tx, old: str, new: str, when: str) -> set[int]:
        """Add ``new`` to the Folders ``old`` is an Approved member of; the ids of those Folders."""
        touched: set[int] = set()
        memberships = [f for f, status in ob.folders_of(tx, old) if status == md.APPROVED]
        if not memberships:
            return touched
        found = ob.lookup(tx, memberships, (ob.FOLDER,))
        for folder_uuid in memberships:
            a = Association(id=_new_uuid(), type=md.HAS_MEMBER, source=folder_uuid, target=new, status=md.APPROVED)
            ob.insert_association(tx, a, when)
            if folder_uuid in found:
                touched.add(found[folder_uuid].id)
        return touched

    # ==============================================================================================
    # ITI-57 Update Document Set (Flux 3 → 4)

    def update(self, objects: RegistryObjects) -> RegistryResponse:
        """Register the update's SubmissionSet and apply its operations, all or nothing.

        (a) UpdateAvailabilityStatus SS→target: UnresolvedReferenceException (target unknown; codeContext = the
        id), XDSPatientIdDoesNotMatch (target of another patient), XDSMetadataUpdateError (OriginalStatus ≠
        current status, or OriginalStatus/NewStatus missing), XDSMetadataUpdateOperationError (transition not in
        :data:`ALLOWED_TRANSITIONS`, SubmissionSet target, older version made Approved/Archived).
        (b) New version (ExtrinsicObject/RegistryPackage with @lid + HasMember SS→it with PreviousVersion):
        UnresolvedReferenceException (lid unknown), XDSMetadataVersionError (PreviousVersion ≠ latest version,
        or a concurrent update won), XDSPatientIDReconciliationError (patient id changed),
        XDSMetadataUpdateError (uniqueId changed, no PreviousVersion), XDSMetadataUpdateOperationError (latest
        version Deprecated/Deleted; an entry that is not a new version; RPLC/APND/XFRM/signs in ITI-57).
        (c) SubmitAssociation and other associations: recorded once their ends resolve."""
        return self._guard(lambda: self._update(objects), METADATA_VERSION_ERROR)

    def _update(self, objects: RegistryObjects) -> RegistryResponse:
        when = now_dtm()
        plan = self._plan_submission_set(objects)
        # new versions: HasMember SS→object carrying PreviousVersion
        versions: dict[str, tuple[Association, str]] = {}
        for a in objects.associations:
            if a.type == md.HAS_MEMBER and a.source == plan.ss_original_id:
                versions[a.target] = (a, a.previous_version or "")
        new_entries: list[tuple[DocumentEntry, DocumentEntry, str]] = []  # (model, original, previous version)
        for original in objects.entries:
            de = dataclasses.replace(original, status=md.APPROVED, home=self.home_community_id or original.home)
            de.entry_uuid = self._assign(plan, "DocumentEntry", original.entry_uuid, original.location)
            label = plan.label("DocumentEntry", original.entry_uuid)
            member = versions.get(original.entry_uuid)
            if not original.logical_id or original.logical_id in (original.entry_uuid, de.entry_uuid):
                plan.errors.append(
                    _error(
                        METADATA_UPDATE_OPERATION_ERROR,
                        f"{label}: ITI-57 registers no new document; a new version carries @lid = the logicalID "
                        "of the registered entry",
                        original.location,
                    )
                )
                continue
            if member is None or not member[1]:
                plan.errors.append(
                    _error(
                        METADATA_UPDATE_ERROR,
                        f"{label}: new version of {original.logical_id} without a HasMember association from the "
                        "SubmissionSet carrying PreviousVersion",
                        original.location,
                    )
                )
                continue
            new_entries.append((de, original, member[1]))
            plan.others[de.entry_uuid] = ob.ENTRY
        new_folders: list[tuple[Folder, Folder, str]] = []
        plain_folders: list[Folder] = []
        for folder in objects.folders:
            if folder.logical_id and folder.logical_id != folder.entry_uuid:
                fd = dataclasses.replace(folder, status=md.APPROVED, last_update_time=when)
                fd.home = self.home_community_id or folder.home
                fd.entry_uuid = self._assign(plan, "Folder", folder.entry_uuid, folder.location)
                member = versions.get(folder.entry_uuid)
                if member is None or not member[1]:
                    plan.errors.append(
                        _error(
                            METADATA_UPDATE_ERROR,
                            f"{plan.label('Folder', folder.entry_uuid)}: new version of {folder.logical_id} "
                            "without a HasMember association from the SubmissionSet carrying PreviousVersion",
                            folder.location,
                        )
                    )
                    continue
                new_folders.append((fd, folder, member[1]))
                plan.others[fd.entry_uuid] = ob.FOLDER
            else:
                plain_folders.append(folder)
        self._plan_folders(plan, plain_folders, when)
        forbidden = (*_DOCUMENT_RELATIONS, md.SIGNS, md.IS_SNAPSHOT_OF)
        self._plan_associations(plan, objects.associations, forbidden=forbidden)
        for a, original_id in plan.associations:
            if a.type == md.UPDATE_AVAILABILITY_STATUS:
                label = plan.label("Association", original_id)
                if a.source != plan.ss.entry_uuid:
                    plan.errors.append(
                        _error(
                            METADATA_UPDATE_ERROR,
                            f"{label}: the source of UpdateAvailabilityStatus is the update's SubmissionSet",
                            a.location,
                        )
                    )
                if not a.original_status or not a.new_status:
                    plan.errors.append(
                        _error(
                            METADATA_UPDATE_ERROR,
                            f"{label}: UpdateAvailabilityStatus without OriginalStatus and NewStatus slots",
                            a.location,
                        )
                    )
        plan.check()
        with self.store.write(lock_keys=[plan.ss.patient_id or ""]) as tx:
            self._apply_update(tx, plan, new_entries, new_folders, when)
        return RegistryResponse()

    def _apply_update(
        self,
        tx: Tx,
        plan: _Plan,
        new_entries: list[tuple[DocumentEntry, DocumentEntry, str]],
        new_folders: list[tuple[Folder, Folder, str]],
        when: str,
    ) -> None:
        self._check_registered_uuids(tx, plan)
        self._check_registered_unique_ids(tx, plan, entries=False)
        plan.check()
        touched: set[int] = set()
        version_ops: list[tuple[str, ob.StoredObject, DocumentEntry | Folder, str | None]] = []
        for de, original, previous in new_entries:
            label = plan.label("DocumentEntry", original.entry_uuid)
            latest = self._check_new_version(tx, plan, ob.ENTRY, label, de, original, previous)
            if latest is not None:
                member = next(a for a, _ in plan.associations if a.target == de.entry_uuid and a.previous_version)
                version_ops.append((ob.ENTRY, latest, de, member.propagation))
        for fd, original_folder, previous in new_folders:
            label = plan.label("Folder", original_folder.entry_uuid)
            latest = self._check_new_version(tx, plan, ob.FOLDER, label, fd, original_folder, previous)
            if latest is not None:
                version_ops.append((ob.FOLDER, latest, fd, None))
        external = self._external(tx, plan)
        for a, original_id in plan.associations:
            label = plan.label("Association", original_id)
            if a.type == md.HAS_MEMBER:
                entries = {de.entry_uuid: de for de, _, _ in new_entries}
                folders = {f.entry_uuid: f for f, _ in plan.folders}
                folders.update({f.entry_uuid: f for f, _, _ in new_folders})
                self._check_membership(plan, a, label, external, folders, entries, touched)
        plan.check()
        # --- writes (in message order for the status changes) --------------------------------------
        ob.insert_submission_set(tx, plan.ss, when)
        for fd, _ in plan.folders:
            ob.insert_folder(tx, fd, when)
        for kind, latest, new, propagation in version_ops:
            try:
                if kind == ob.ENTRY:
                    assert isinstance(new, DocumentEntry)
                    ob.insert_entry(tx, new, when)
                else:
                    assert isinstance(new, Folder)
                    ob.insert_folder(tx, new, when)
            except UniqueViolation as exc:
                raise RegistryError(
                    _error(
                        METADATA_VERSION_ERROR,
                        f"{ob.KIND_NAMES[kind]} {new.entry_uuid}: version {new.version} of {latest.lid} was "
                        f"registered meanwhile ({exc.key})",
                        new.location,
                    )
                ) from exc
            ob.set_status(tx, kind, latest.id, md.DEPRECATED)
            if kind == ob.ENTRY and (propagation or "").lower() != "no":
                touched |= self._propagate_folders(tx, latest.entry_uuid, new.entry_uuid, when)
        for a, original_id in plan.associations:
            if a.type == md.UPDATE_AVAILABILITY_STATUS:
                self._change_status(tx, plan, a, plan.label("Association", original_id))
        plan.check()
        for a, _ in plan.associations:
            ob.insert_association(tx, a, when)
        for folder_id in touched:
            ob.touch_folder(tx, folder_id, when)

    def _check_new_version(
        self,
        tx: Tx,
        plan: _Plan,
        kind: str,
        label: str,
        new: DocumentEntry | Folder,
        original: DocumentEntry | Folder,
        previous: str,
    ) -> ob.StoredObject | None:
        lid = original.logical_id or ""
        latest = ob.latest_version(tx, kind, lid)
        if latest is None:
            other = ob.latest_version(tx, ob.FOLDER if kind == ob.ENTRY else ob.ENTRY, lid)
            why = f"is a {ob.KIND_NAMES[other.kind]}" if other else f"names no registered {ob.KIND_NAMES[kind]}"
            plan.errors.append(_error(UNRESOLVED_REFERENCE, lid, f"{label}: its logicalID {lid} {why}"))
            return None
        errors_before = len(plan.errors)
        if previous.strip() != str(latest.version):
            plan.errors.append(
                _error(
                    METADATA_VERSION_ERROR,
                    f"{label}: PreviousVersion {previous} but the latest version of {lid} is {latest.version} "
                    f"({latest.entry_uuid})",
                    original.location,
                )
            )
        if latest.status not in (md.APPROVED, md.ARCHIVED):
            plan.errors.append(
                _error(
                    METADATA_UPDATE_OPERATION_ERROR,
                    f"{label}: the latest version of {lid} ({latest.entry_uuid}) is "
                    f"{latest.status.rsplit(':', 1)[-1]}; only an Approved or Archived entry gets a new version",
                    original.location,
                )
            )
        if new.patient_id != latest.patient_id:
            plan.errors.append(
                _error(
                    PATIENT_ID_RECONCILIATION_ERROR,
                    f"{label}: patientId {new.patient_id} differs from {latest.patient_id} of {latest.entry_uuid} "
                    "(a new version does not move a document to another patient)",
                    original.location,
                )
            )
        elif new.patient_id != plan.ss.patient_id:
            plan.errors.append(
                _error(
                    PATIENT_ID_DOES_NOT_MATCH,
                    f"{label}: patientId {new.patient_id} differs from the SubmissionSet's {plan.ss.patient_id}",
                    original.location,
                )
            )
        if new.unique_id != latest.unique_id:
            plan.errors.append(
                _error(
                    METADATA_UPDATE_ERROR,
                    f"{label}: uniqueId {new.unique_id} differs from {latest.unique_id} of {latest.entry_uuid} "
                    "(a new version keeps the uniqueId)",
                    original.location,
                )
            )
        if len(plan.errors) > errors_before:
            return None
        new.logical_id = lid
        new.version = str((latest.version or 0) + 1)
        new.status = md.APPROVED
        if isinstance(new, DocumentEntry):
            row = ob.entry_repository_fields(tx, latest.id)
            if row is not None:
                new.hash, new.size = row[0], (str(row[1]) if row[1] is not None else None)
                new.repository_unique_id, new.uri = row[2], row[3]
            new.object_type = new.object_type or latest.object_type or md.STABLE
        return latest

    def _change_status(self, tx: Tx, plan: _Plan, a: Association, label: str) -> None:
        found = ob.lookup(tx, [a.target])
        target = found.get(a.target)
        if target is None:
            plan.errors.append(_error(UNRESOLVED_REFERENCE, a.target, _end_location(a.location, label, "targetObject")))
            return
        what = f"{ob.KIND_NAMES[target.kind]} {a.target}"
        original, new = a.original_status or "", a.new_status or ""
        if target.kind == ob.SUBMISSION_SET:
            plan.errors.append(
                _error(METADATA_UPDATE_OPERATION_ERROR, f"{label}: the status of {what} cannot change", a.location)
            )
            return
        if target.kind in (ob.ENTRY, ob.FOLDER) and target.patient_id != plan.ss.patient_id:
            plan.errors.append(
                _error(
                    PATIENT_ID_DOES_NOT_MATCH,
                    f"{label}: {what} belongs to patient {target.patient_id}, the update to {plan.ss.patient_id}",
                    a.location,
                )
            )
            return
        if original != target.status:
            plan.errors.append(
                _error(
                    METADATA_UPDATE_ERROR,
                    f"{label}: OriginalStatus {original} but {what} is {target.status}",
                    a.location,
                )
            )
            return
        allowed = ALLOWED_ASSOCIATION_TRANSITIONS if target.kind == ob.ASSOCIATION else ALLOWED_TRANSITIONS
        if (original, new) not in allowed:
            plan.errors.append(
                _error(
                    METADATA_UPDATE_OPERATION_ERROR,
                    f"{label}: {what}: status change {original.rsplit(':', 1)[-1]} → {new.rsplit(':', 1)[-1]} "
                    "is not allowed",
                    a.location,
                )
            )
            return
        if new in (md.APPROVED, md.ARCHIVED) and target.kind in (ob.ENTRY, ob.FOLDER) and target.lid:
            latest = ob.latest_version(tx, target.kind, target.lid)
            if latest is not None and latest.id != target.id:
                plan.errors.append(
                    _error(
                        METADATA_UPDATE_OPERATION_ERROR,
                        f"{label}: {what} is version {target.version}, not the latest ({latest.version}, "
                        f"{latest.entry_uuid}); only the latest version can be {new.rsplit(':', 1)[-1]}",
                        a.location,
                    )
                )
                return
        ob.set_status(tx, target.kind, target.id, new)

    # ==============================================================================================
    # ITI-18 Registry Stored Query (Flux 5 → 6)

    def stored_query(self, query: StoredQuery) -> etree._Element:
        """Run a stored query: the whole ``query:AdhocQueryResponse`` element (see :mod:`.queries`)."""
        try:
            with self.store.read() as tx:
                return queries.execute(tx, query, max_results=self.max_results)
        except RegistryError as exc:
            return queries.failure(exc.errors)
        except Exception as exc:
            log.exception("stored query %s failed", query.query_id)
            return queries.failure([_error(REGISTRY_ERROR, f"the registry could not run the query: {exc}")])

    # ==============================================================================================
    # ITI-43 Retrieve Document Set (Flux 7 → 8)

    def retrieve(self, requests: list[DocumentRequest]) -> RetrieveResponse:
        """The documents asked for. Per request: XDSUnknownRepositoryId (not our repositoryUniqueId; codeContext
        that id), XDSDocumentUniqueIdError (an entryUUID ``urn:uuid:…`` given instead of a uniqueId, as the DMP
        answers; codeContext that value), XDSMissingDocument (no such document; codeContext the uniqueId).
        Status: Success (all found), PartialSuccess (some), Failure (none). mimeType from the DocumentEntry
        (latest version)."""
        try:
            return self._retrieve(requests)
        except Exception as exc:
            log.exception("retrieve failed")
            return RetrieveResponse(
                RegistryResponse.failure(_error(REPOSITORY_ERROR, f"the repository could not answer: {exc}"))
            )

    def _retrieve(self, requests: list[DocumentRequest]) -> RetrieveResponse:
        if not requests:
            return RetrieveResponse(RegistryResponse.failure(_error(REPOSITORY_ERROR, "no DocumentRequest")))
        errors: list[XdsError] = []
        documents: list[RetrievedDocument] = []
        with self.store.read() as tx:
            for req in requests:
                uid = req.document_unique_id
                if req.repository_unique_id != self.repository_unique_id:
                    errors.append(
                        _error(
                            UNKNOWN_REPOSITORY,
                            req.repository_unique_id,
                            f"document {uid}: repositoryUniqueId {req.repository_unique_id!r} is not this "
                            f"repository ({self.repository_unique_id})",
                        )
                    )
                    continue
                row = tx.one(
                    "SELECT d.content, d.mime_type, (SELECT e.mime_type FROM document_entry e WHERE e.unique_id = "
                    "d.unique_id ORDER BY e.version DESC LIMIT 1) FROM document d WHERE d.unique_id = ?",
                    (uid,),
                )
                if row is None:
                    if uid.lower().startswith("urn:uuid:"):
                        errors.append(
                            _error(
                                DOCUMENT_UNIQUE_ID_ERROR,
                                uid,
                                f"{uid} is an entryUUID; DocumentUniqueId is the DocumentEntry's uniqueId",
                            )
                        )
                    else:
                        errors.append(_error(MISSING_DOCUMENT, uid, f"no document with uniqueId {uid}"))
                    continue
                documents.append(
                    RetrievedDocument(
                        repository_unique_id=self.repository_unique_id,
                        document_unique_id=uid,
                        mime_type=row[2] or row[1] or "application/octet-stream",
                        content=bytes(row[0]),
                        home_community_id=self.home_community_id or req.home_community_id,
                    )
                )
        status = SUCCESS if not errors else PARTIAL_SUCCESS if documents else FAILURE
        return RetrieveResponse(RegistryResponse(status, errors), documents)

    # ==============================================================================================

    def _guard(self, operation: Callable[[], RegistryResponse], unique_code: str) -> RegistryResponse:
        """Run a write operation; refusals and failures become a Failure response, never an exception."""
        try:
            return operation()
        except RegistryError as exc:
            return RegistryResponse.failure(*exc.errors)
        except UniqueViolation as exc:
            return RegistryResponse.failure(_unique_violation(exc, unique_code))
        except StoreError as exc:
            log.exception("registry store failure")
            return RegistryResponse.failure(_error(REGISTRY_ERROR, f"the registry store failed: {exc}"))
        except Exception as exc:
            log.exception("registry failure")
            return RegistryResponse.failure(_error(REGISTRY_ERROR, f"internal registry error: {exc}"))


def _end_location(location: str, label: str, end: str) -> str:
    """Where an association end is: the XPath of its attribute when the message was decoded, else a label."""
    return f"{location}/@{end}" if location else f"{label} {end}"


def _unique_violation(exc: UniqueViolation, unique_code: str) -> XdsError:
    """A unique constraint that fired under concurrency, as the XDS error the check before it would give."""
    table, _, column = exc.key.partition(".")
    if column == "unique_id":
        code = DUPLICATE_IN_REGISTRY if table in ("submission_set", "folder") else unique_code
        if table == "document":
            code = DUPLICATE_IN_REGISTRY
        return _error(code, f"{exc.key}: a concurrent submission registered the same uniqueId first ({exc})")
    if column == "lid":
        return _error(METADATA_VERSION_ERROR, f"{exc.key}: a concurrent update registered that version first")
    if column == "entry_uuid":
        return _error(REGISTRY_METADATA_ERROR, f"{exc.key}: entryUUID already registered")
    return _error(REGISTRY_ERROR, str(exc))
