"""Registry Stored Query request rules (ITI-18, Flux 5 RechercheDocument).

:func:`check_query` reads a ``query:AdhocQueryRequest`` and reports: unknown query id, wrong return type,
unknown / missing / repeated parameters, "one of" groups, the literal syntax of every value, and its
content per kind (code, time, status, CX patient id, CXi reference id, UUID, object type, association
type, metadata level), From ≥ To time ranges, and the CI-SIS imaging search criteria (volet Tableau 13:
modality / anatomic region codes in ``$XDSDocumentEntryEventCodeList``).

:data:`XDS_ERROR_CODE` maps each rule to the XDS error code a registry returns for it (ITI TF-2a
3.18.4.1.3; xds-facts §4); the registry simulator reuses it. :func:`read_stored_query` turns a valid
request into the :class:`~xdsi.model.storedquery.StoredQuery` the simulator executes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from xdsi.model import formats as fmt
from xdsi.model import storedquery as sq
from xdsi.validation.findings import CATALOGUE, PROFILES, Finding, Severity, finding, register
from xdsi.validation.technical import NS, RIM, element_xpath

LAYER = "technical"
QUERY_NS = NS["query"]
_KINDS = ("flux5",)
_TF = "IHE ITI TF-2a"
_REF_ENCODING = f"{_TF} 3.18.4.1.2.3.4 (coding of single and multiple values); xds-facts §3.4"
_REF_PARAMS = f"{_TF} 3.18.4.1.2.3.7 (parameters for required queries); xds-facts §3.3"

#: rule id → XDS error code returned by a registry (RegistryError/@errorCode)
XDS_ERROR_CODE: dict[str, str] = {}


def _rule(
    rule_id: str,
    severity: Severity,
    error_code: str,
    reference: str,
    text: str,
    profiles: tuple[str, ...] = PROFILES,
) -> str:
    register(rule_id, severity, _KINDS, reference, text, LAYER, profiles=profiles)
    XDS_ERROR_CODE[rule_id] = error_code
    return rule_id


R_UNKNOWN_QUERY = _rule(
    "SQ.QUERY.UNKNOWN",
    "error",
    "XDSUnknownStoredQuery",
    f"{_TF} 3.18.4.1.2.3.7 (query ids), 3.18.4.1.3 (XDSUnknownStoredQuery); xds-facts §3.2",
    "The AdhocQuery id is one of the ITI-18 stored query ids.",
)
R_RETURN_TYPE = _rule(
    "SQ.QUERY.RETURNTYPE",
    "error",
    "XDSRegistryError",
    f"{_TF} 3.18.4.1.2.1 (returnType LeafClass or ObjectRef); xds-facts §3.1",
    "ResponseOption/@returnType is LeafClass or ObjectRef.",
)
R_PARAM_UNKNOWN = _rule(
    "SQ.PARAM.UNKNOWN",
    "warning",
    "XDSRegistryError",
    _REF_PARAMS,
    "Every slot is a parameter of the query (an unknown one is ignored by the registry).",
)
R_PARAM_MISSING = _rule(
    "SQ.PARAM.MISSING",
    "error",
    "XDSStoredQueryMissingParam",
    f"{_REF_PARAMS}; 3.18.4.1.3 (XDSStoredQueryMissingParam)",
    "Every required parameter of the query is present.",
)
R_PARAM_ONEOF = _rule(
    "SQ.PARAM.ONEOF",
    "error",
    "XDSStoredQueryParamNumber",
    f'{_REF_PARAMS} ("shall have exactly one of"); 3.18.4.1.3 (XDSStoredQueryParamNumber)',
    "Exactly one parameter of a 'one of' group (e.g. EntryUUID | UniqueId) is present.",
)
R_PARAM_SINGLE = _rule(
    "SQ.PARAM.SINGLE",
    "error",
    "XDSStoredQueryParamNumber",
    f"{_REF_PARAMS}; {_TF} 3.18.4.1.2.3.4; 3.18.4.1.3 (XDSStoredQueryParamNumber)",
    "A single-valued parameter has one slot with one value, not a list.",
)
R_PARAM_ANDOR = _rule(
    "SQ.PARAM.ANDOR",
    "error",
    "XDSStoredQueryParamNumber",
    f"{_TF} 3.18.4.1.2.3.5 (AND/OR semantics only for the parameters that allow it); {_REF_PARAMS}",
    "Only eventCodeList, confidentialityCode, folder codeList and referenceIdList repeat their slot (AND).",
)
R_VALUE_SYNTAX = _rule(
    "SQ.VALUE.SYNTAX",
    "error",
    "XDSRegistryError",
    _REF_ENCODING,
    "A value is a quoted string '…' ('' for a quote), a number, or a list of them in parentheses.",
)
R_VALUE_NOTSTRING = _rule(
    "SQ.VALUE.NOTSTRING",
    "error",
    "XDSRegistryError",
    _REF_ENCODING,
    "String values (ids, codes, statuses, URNs) are written in single quotes.",
)
R_VALUE_NOTLIST = _rule(
    "SQ.VALUE.NOTLIST",
    "warning",
    "XDSStoredQueryParamNumber",
    f"{_REF_ENCODING}; IPF PARAMETER_VALUE_NOT_STRING_LIST",
    "A multiple-valued parameter is written as a list ('a','b'), even with one value.",
)
R_VALUE_TIME = _rule(
    "SQ.VALUE.TIME",
    "error",
    "XDSRegistryError",
    f"{_REF_ENCODING}; ITI TF-3 4.2.3.1.7 DTM",
    "A time parameter is an unquoted DTM number YYYY[MM[DD[hh[mm[ss]]]]].",
)
R_TIME_RANGE = _rule(
    "SQ.TIME.RANGE",
    "warning",
    "XDSRegistryError",
    f"{_TF} 3.18.4.1.2.3.7.1 (From inclusive, To exclusive)",
    "A …From time is before its …To time (otherwise nothing can match).",
)
R_VALUE_CODE = _rule(
    "SQ.VALUE.CODE",
    "error",
    "XDSRegistryError",
    f"{_TF} 3.18.4.1.2.3.5 (coding of code values: code^^scheme); xds-facts §3.4",
    "A code parameter value is 'code^^codingScheme' with both parts present.",
)
R_VALUE_STATUS = _rule(
    "SQ.VALUE.STATUS",
    "error",
    "XDSRegistryError",
    f"{_REF_PARAMS} ($XDS…Status); JDV_J52_AvailabilityStatus_CISIS (Archived, Deleted) xds-facts §2.7",
    "Status values are availability-status URNs (Approved, Deprecated; cisis/dmp also Archived, Deleted).",
)
R_VALUE_CX = _rule(
    "SQ.VALUE.CX",
    "error",
    "XDSRegistryError",
    f"{_REF_PARAMS} (patient id: CX); ITI TF-3 4.2.3.1.7 CX; CI-SIS INS ^NH xds-facts §2.4, §8.2",
    "The patient id parameter is one quoted CX ID^^^&OID&ISO (cisis/dmp: ^NH for the INS).",
)
R_VALUE_CXI = _rule(
    "SQ.VALUE.CXI",
    "error",
    "XDSRegistryError",
    f"{_TF} 3.18.4.1.2.3.7.14 ($XDSDocumentEntryReferenceIdList); ITI TF-3 4.2.3.1.7 CXi",
    "Reference id values are CXi: id^^^[&OID&ISO]^type-URN.",
)
R_VALUE_UUID = _rule(
    "SQ.VALUE.UUID",
    "error",
    "XDSRegistryError",
    f"{_REF_PARAMS} (EntryUUID, LogicalID, $uuid)",
    "EntryUUID, LogicalID and $uuid values are urn:uuid:<UUID>.",
)
R_VALUE_OBJECTTYPE = _rule(
    "SQ.VALUE.OBJECTTYPE",
    "error",
    "XDSRegistryError",
    f"{_TF} 3.18.4.1.2.3.7.1 ($XDSDocumentEntryType); xds-facts §2.1",
    "$XDSDocumentEntryType values are the stable or on-demand DocumentEntry objectType UUIDs.",
)
R_VALUE_ASSOCIATIONTYPE = _rule(
    "SQ.VALUE.ASSOCIATIONTYPE",
    "error",
    "XDSRegistryError",
    f"{_TF} 3.18.4.1.2.3.7.13 ($AssociationTypes); xds-facts §2.6",
    "$AssociationTypes values are association type URNs.",
)
R_VALUE_METADATALEVEL = _rule(
    "SQ.VALUE.METADATALEVEL",
    "error",
    "XDSRegistryError",
    "IHE ITI TF-2a 3.18.4.1.2.3.7 ($MetadataLevel, XDS Metadata Update)",
    "$MetadataLevel is 1 or 2.",
)
R_EVENTCODE_IMAGING = _rule(
    "SQ.EVENTCODE.IMAGING",
    "error",
    "XDSRegistryError",
    "PEI §5.5.2 Tableau 13 listeCodesEvenements (modaliteImagerie JDV 1.2.250.1.213.1.1.5.618 / DCM "
    "1.2.840.10008.2.16.4; regionAnatomique JDV 1.2.250.1.213.1.1.5.695, SNOMED CT); xds-facts §8.5",
    "Imaging eventCodeList criteria: a modality is a DICOM CS code under the modality JDV OID or DCM OID, "
    "a region a SNOMED CT id under the region JDV OID.",
    profiles=("cisis", "dmp"),
)

#: XDS_ERROR_CODE is complete: every rule of this module maps to a code.
RULES = tuple(XDS_ERROR_CODE)

MODALITY_JDV = "1.2.250.1.213.1.1.5.618"
REGION_JDV = "1.2.250.1.213.1.1.5.695"
DCM = "1.2.840.10008.2.16.4"
_MODALITY_CODE = re.compile(r"[A-Z0-9_]{1,16}")
_SNOMED_ID = re.compile(r"[1-9][0-9]{5,17}")

_KIND_RULE = {
    "code": R_VALUE_CODE,
    "time": R_VALUE_TIME,
    "status": R_VALUE_STATUS,
    "uuid": R_VALUE_UUID,
    "cx": R_VALUE_CX,
    "cxi": R_VALUE_CXI,
    "objecttype": R_VALUE_OBJECTTYPE,
    "associationtype": R_VALUE_ASSOCIATIONTYPE,
    "metadatalevel": R_VALUE_METADATALEVEL,
}


@dataclass
class _Slot:
    name: str
    element: etree._Element
    values: list[etree._Element]

    @property
    def texts(self) -> list[str]:
        return [v.text or "" for v in self.values]


def _find_request(body_root: etree._Element) -> etree._Element | None:
    tag = f"{{{QUERY_NS}}}AdhocQueryRequest"
    if body_root.tag == tag:
        return body_root
    return next(body_root.iter(tag), None)


def _slots(adhoc: etree._Element) -> list[_Slot]:
    return [
        _Slot(s.get("name", ""), s, list(s.iterfind(f"{{{RIM}}}ValueList/{{{RIM}}}Value")))
        for s in adhoc.iterfind(f"{{{RIM}}}Slot")
    ]


class _QueryChecker:
    def __init__(self, root: etree._Element, profile: str) -> None:
        self.root = root
        self.profile = profile
        self.findings: list[Finding] = []

    def add(self, rule_id: str, el: etree._Element, message: str, attribute: str | None = None) -> None:
        if self.profile not in CATALOGUE[rule_id].profiles:
            return
        loc = element_xpath(el, self.root) + (f"/@{attribute}" if attribute else "")
        self.findings.append(finding(rule_id, loc, message, self.profile))

    def run(self, request: etree._Element) -> list[Finding]:
        option = request.find(f"{{{QUERY_NS}}}ResponseOption")
        if option is not None:
            return_type = option.get("returnType", "LeafClass")  # schema default
            if return_type not in sq.RETURN_TYPES:
                self.add(
                    R_RETURN_TYPE,
                    option,
                    f"returnType {return_type!r}; ITI-18 allows {' or '.join(sq.RETURN_TYPES)}",
                    "returnType",
                )
        adhoc = request.find(f"{{{RIM}}}AdhocQuery")
        if adhoc is None:
            self.add(R_UNKNOWN_QUERY, request, "no rim:AdhocQuery in the request")
            return self.findings
        query_id = adhoc.get("id", "")
        definition = sq.query_def(query_id)
        if definition is None:
            self.add(R_UNKNOWN_QUERY, adhoc, f"unknown stored query id {query_id!r}", "id")
            return self.findings
        slots = _slots(adhoc)
        by_name: dict[str, list[_Slot]] = {}
        for slot in slots:
            by_name.setdefault(slot.name, []).append(slot)
        self.presence(definition, adhoc, by_name)
        for name, group in by_name.items():
            p = definition.param(name)
            if p is None:
                self.add(
                    R_PARAM_UNKNOWN,
                    group[0].element,
                    f"{name!r} is not a parameter of {definition.name}",
                )
                continue
            self.parameter(p, group)
        self.time_ranges(definition, by_name)
        return self.findings

    # -- parameters ------------------------------------------------------------------------------

    def presence(self, definition: sq.QueryDef, adhoc: etree._Element, by_name: dict[str, list[_Slot]]) -> None:
        for p in definition.required:
            if p.name not in by_name:
                self.add(R_PARAM_MISSING, adhoc, f"{definition.name} requires {p.name}")
        for members in definition.groups.values():
            present = [m for m in members if m in by_name]
            if len(present) != 1:
                where = by_name[present[1]][0].element if len(present) > 1 else adhoc
                found = ", ".join(present) if present else "none"
                self.add(
                    R_PARAM_ONEOF,
                    where,
                    f"{definition.name} takes exactly one of {', '.join(members)}; found {found}",
                )

    def parameter(self, p: sq.ParamDef, group: list[_Slot]) -> None:
        if len(group) > 1 and not p.and_or:
            if p.multiple:
                self.add(
                    R_PARAM_ANDOR,
                    group[1].element,
                    f"{p.name} repeated in {len(group)} slots; it has no AND/OR semantics "
                    "(give several values as one list)",
                )
            else:
                self.add(
                    R_PARAM_SINGLE,
                    group[1].element,
                    f"{p.name} is single-valued but given {len(group)} slots",
                )
        for slot in group:
            self.slot(p, slot)

    def slot(self, p: sq.ParamDef, slot: _Slot) -> None:
        if not slot.values:
            self.add(R_VALUE_SYNTAX, slot.element, f"{p.name} has no value")
            return
        items: list[tuple[str, etree._Element]] = []
        as_list = False
        all_quoted = True
        for value in slot.values:
            text = value.text or ""
            try:
                parsed = sq.parse_value(text)
            except sq.SlotValueError as exc:
                self.add(R_VALUE_SYNTAX, value, f"{p.name} value {text!r}: {exc.reason}")
                if p.kind == "cx":  # still judge what it carries: e.g. a quote-broken (injected) id
                    content = text.strip().removeprefix("'").removesuffix("'").replace("''", "'")
                    self.content(p, content, value)
                continue
            as_list = as_list or parsed.is_list
            for item, quoted in zip(parsed.items, parsed.quoted, strict=True):
                self.quoting(p, item, quoted, value)
                all_quoted = all_quoted and quoted
                items.append((item, value))
        if not p.multiple and (len(items) > 1 or as_list):
            self.add(
                R_PARAM_SINGLE,
                slot.values[min(1, len(slot.values) - 1)],
                f"{p.name} is single-valued: give one value, not "
                + (f"{len(items)} values" if len(items) > 1 else "a list"),
            )
        if p.multiple and not as_list and items and all_quoted:
            shown = ",".join("'" + item.replace("'", "''") + "'" for item, _ in items)
            self.add(
                R_VALUE_NOTLIST,
                slot.values[0],
                f"{p.name} is multiple-valued: write it as a list ({shown})",
            )
        for item, value in items:
            self.content(p, item, value)
        if p.name == "$XDSDocumentEntryEventCodeList":
            for item, value in items:
                self.imaging(item, value)

    def quoting(self, p: sq.ParamDef, item: str, quoted: bool, value: etree._Element) -> None:
        """Times are unquoted numbers, $MetadataLevel either, everything else a quoted string."""
        if p.kind in sq.EITHER_KINDS:
            return
        if p.kind in sq.NUMERIC_KINDS:
            if quoted:
                self.add(
                    R_VALUE_TIME,
                    value,
                    f"{p.name} value '{item}' is quoted; a time is an unquoted number ({item})",
                )
        elif not quoted:
            self.add(R_VALUE_NOTSTRING, value, f"{p.name} value {item!r} is not quoted; expected '{item}'")

    def content(self, p: sq.ParamDef, item: str, value: etree._Element) -> None:
        problem = self.problem(p.kind, item)
        rule_id = _KIND_RULE.get(p.kind)
        if problem and rule_id:
            self.add(rule_id, value, f"{p.name} value {item!r}: {problem}")

    def problem(self, kind: str, item: str) -> str | None:
        if kind == "code":
            return sq.check_code(item)
        if kind == "time":
            return fmt.check_dtm(item)
        if kind == "status":
            if item in sq.allowed_statuses(self.profile):
                return None
            if self.profile == "ihe" and item in sq.CISIS_STATUSES:
                return "a CI-SIS status, not an IHE one (profile ihe)"
            return "not an availability status URN (…StatusType:Approved, …)"
        if kind == "uuid":
            return fmt.check_uuid_urn(item)
        if kind == "cx":
            return fmt.check_cx(item, self.profile)
        if kind == "cxi":
            return fmt.check_cxi(item)
        if kind == "objecttype":
            return None if item in sq.OBJECT_TYPES else "not the stable or on-demand DocumentEntry objectType"
        if kind == "associationtype":
            return None if item in sq.ASSOCIATION_TYPES else "not an association type URN"
        if kind == "metadatalevel":
            return None if item in ("1", "2") else "not 1 or 2"
        return None

    def imaging(self, item: str, value: etree._Element) -> None:
        if sq.check_code(item):
            return  # already reported as SQ.VALUE.CODE
        code, scheme = sq.parse_code(item)
        if scheme.upper() == "DCM":
            self.add(
                R_EVENTCODE_IMAGING,
                value,
                f"eventCodeList {item!r}: the DICOM scheme is given by its OID {DCM} (or the modality JDV "
                f"{MODALITY_JDV}), not 'DCM'",
            )
        elif scheme in (MODALITY_JDV, DCM) and not _MODALITY_CODE.fullmatch(code):
            self.add(
                R_EVENTCODE_IMAGING,
                value,
                f"eventCodeList {item!r}: {code!r} is not a modality code (DICOM CS A-Z 0-9 _, e.g. CT)",
            )
        elif scheme == REGION_JDV and not _SNOMED_ID.fullmatch(code):
            self.add(
                R_EVENTCODE_IMAGING,
                value,
                f"eventCodeList {item!r}: {code!r} is not a SNOMED CT concept id (anatomic region JDV)",
            )

    def time_ranges(self, definition: sq.QueryDef, by_name: dict[str, list[_Slot]]) -> None:
        for p in definition.params:
            if p.kind != "time" or not p.name.endswith("From"):
                continue
            to_name = p.name[: -len("From")] + "To"
            if p.name not in by_name or to_name not in by_name:
                continue
            low = self.single_time(by_name[p.name])
            high_slot = by_name[to_name][0]
            high = self.single_time(by_name[to_name])
            if low and high and fmt.dtm_sort_key(low) >= fmt.dtm_sort_key(high):
                self.add(
                    R_TIME_RANGE,
                    high_slot.values[0],
                    f"{p.name} {low} is not before {to_name} {high} (From is inclusive, To exclusive): "
                    "the range is empty",
                )

    @staticmethod
    def single_time(group: list[_Slot]) -> str | None:
        try:
            values = sq.parse_slot_values(group[0].texts, None)
        except sq.SlotValueError:
            return None
        if len(values) != 1 or fmt.check_dtm(values[0]):
            return None
        return values[0]


def check_query(body_root: etree._Element, profile: str = "cisis") -> list[Finding]:
    """Findings for the ``query:AdhocQueryRequest`` at (or under) ``body_root``; none if there is none.

    Locations are XPaths from ``body_root``, e.g.
    ``/query:AdhocQueryRequest/rim:AdhocQuery/rim:Slot[@name='$XDSDocumentEntryStatus']/rim:ValueList/rim:Value[1]``.
    """
    request = _find_request(body_root)
    if request is None:
        return []
    return _QueryChecker(body_root, profile).run(request)


def read_stored_query(body_root: etree._Element) -> sq.StoredQuery | None:
    """The :class:`~xdsi.model.storedquery.StoredQuery` of the request at (or under) ``body_root``.

    ``None`` when there is no AdhocQueryRequest/AdhocQuery. Raises
    :class:`~xdsi.model.storedquery.SlotValueError` on unreadable values: run :func:`check_query` first."""
    request = _find_request(body_root)
    if request is None:
        return None
    adhoc = request.find(f"{{{RIM}}}AdhocQuery")
    if adhoc is None:
        return None
    option = request.find(f"{{{QUERY_NS}}}ResponseOption")
    return_type = option.get("returnType", "LeafClass") if option is not None else "LeafClass"
    return sq.build_stored_query(adhoc.get("id", ""), [(s.name, s.texts) for s in _slots(adhoc)], return_type)
