"""HL7 v2 identifier data types as XDS carries them in slots and external identifiers (CX, XCN, XON, CXi).

The model stores identifiers as their wire strings (what the message said, exactly); these classes build
and split them. Reference: IHE ITI TF-3 Table 4.2.3.1.7-2 (data types), CI-SIS conventions (xds-facts §2.4).
"""

from __future__ import annotations

from dataclasses import dataclass

#: referenceIdList identifier types (CXi.5), JDV_J197 / JDV_J231.
ACCESSION = "urn:ihe:iti:xds:2013:accession"
ORDER = "urn:ihe:iti:xds:2013:order"
STUDY_INSTANCE_UID = "urn:ihe:iti:xds:2016:studyInstanceUID"
REFERRAL = "urn:ihe:iti:xds:2013:referral"
UNIQUE_ID = "urn:ihe:iti:xds:2013:uniqueId"
WORKFLOW_INSTANCE_ID = "urn:ihe:iti:xdw:2013:workflowInstanceId"
ENCOUNTER_ID = "urn:ihe:iti:xds:2015:encounterId"

#: OIDs of the French national identifiers.
INS_NIR = "1.2.250.1.213.1.4.8"
INS_NIA = "1.2.250.1.213.1.4.9"
INS_NIR_TEST = "1.2.250.1.213.1.4.10"
INS_NIR_DEMO = "1.2.250.1.213.1.4.11"
PS_IDNAT = "1.2.250.1.71.4.2.1"
STRUCT_IDNAT = "1.2.250.1.71.4.2.2"


def _hd(oid: str | None) -> str:
    return f"&{oid}&ISO" if oid else ""


def _split_hd(hd: str) -> str | None:
    parts = hd.split("&")
    return parts[1] if len(parts) > 1 and parts[1] else None


@dataclass(frozen=True)
class CX:
    """Patient identifier ``id^^^&oid&ISO[^type]`` (type ``NH`` for the INS in the CI-SIS)."""

    id: str
    authority: str
    type_code: str | None = None

    def __str__(self) -> str:
        tail = f"^{self.type_code}" if self.type_code else ""
        return f"{self.id}^^^{_hd(self.authority)}{tail}"

    @classmethod
    def parse(cls, value: str) -> CX:
        comps = value.split("^")
        authority = _split_hd(comps[3]) if len(comps) > 3 else None
        type_code = comps[4] if len(comps) > 4 and comps[4] else None
        return cls(comps[0], authority or "", type_code)

    @classmethod
    def ins(cls, matricule: str, oid: str = INS_NIR_TEST) -> CX:
        return cls(matricule, oid, "NH")


@dataclass(frozen=True)
class ReferenceId:
    """One referenceIdList value (CXi): ``id^^^&oid&ISO^type``; the authority is omitted for UIDs."""

    id: str
    type: str
    authority: str | None = None

    def __str__(self) -> str:
        return f"{self.id}^^^{_hd(self.authority)}^{self.type}"

    @classmethod
    def parse(cls, value: str) -> ReferenceId:
        comps = value.split("^")
        authority = _split_hd(comps[3]) if len(comps) > 3 else None
        type_urn = comps[4] if len(comps) > 4 else ""
        return cls(comps[0], type_urn, authority)


@dataclass(frozen=True)
class XCN:
    """Person: ``id^FAMILY^Given^^^^^^&oid&ISO^D^^^IDNPS`` (CI-SIS form for health professionals)."""

    id: str | None
    family: str | None = None
    given: str | None = None
    authority: str | None = PS_IDNAT
    id_type: str | None = "IDNPS"

    def __str__(self) -> str:
        comps = [self.id or "", self.family or "", self.given or "", "", "", "", "", ""]
        if self.id and self.authority:
            comps += [_hd(self.authority), "D", "", "", self.id_type or ""]
        return "^".join(comps).rstrip("^")

    @classmethod
    def parse(cls, value: str) -> XCN:
        c = value.split("^") + [""] * 13
        return cls(c[0] or None, c[1] or None, c[2] or None, _split_hd(c[8]), c[12] or None)


@dataclass(frozen=True)
class XON:
    """Organisation: ``Name^^^^^&oid&ISO^IDNST^^^id`` (CI-SIS form, id = Struct_IdNat)."""

    name: str
    id: str | None = None
    authority: str | None = STRUCT_IDNAT
    id_type: str | None = "IDNST"

    def __str__(self) -> str:
        if not self.id:
            return self.name
        return f"{self.name}^^^^^{_hd(self.authority)}^{self.id_type or ''}^^^{self.id}"

    @classmethod
    def parse(cls, value: str) -> XON:
        c = value.split("^") + [""] * 10
        return cls(c[0], c[9] or None, _split_hd(c[5]), c[6] or None)
