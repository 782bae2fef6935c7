"""RAD-69 Retrieve Imaging Document Set (Flux 9 request; Flux 10 is the ITI-43 response shape)."""

from __future__ import annotations

from lxml import etree

from xdsi.ebrim import vocabulary as v
from xdsi.messages.iti43 import decode_document_request, encode_document_request
from xdsi.messages.iti43 import decode_response as decode_response
from xdsi.messages.iti43 import encode_response as encode_response
from xdsi.model.retrieve import ImagingRetrieveRequest, SeriesRequest, StudyRequest

ACTION = "urn:ihe:rad:2009:RetrieveImagingDocumentSet"
RESPONSE_ACTION = "urn:ihe:iti:2007:RetrieveDocumentSetResponse"
XI = f"{{{v.XDSI}}}"


def encode_request(req: ImagingRetrieveRequest) -> etree._Element:
    root = etree.Element(XI + "RetrieveImagingDocumentSetRequest", nsmap={"xdsi": v.XDSI, "xdsb": v.XDSB})
    for study in req.studies:
        st = etree.SubElement(root, XI + "StudyRequest", studyInstanceUID=study.study_instance_uid)
        for series in study.series:
            se = etree.SubElement(st, XI + "SeriesRequest", seriesInstanceUID=series.series_instance_uid)
            for d in series.documents:
                encode_document_request(se, d)
    tsl = etree.SubElement(root, XI + "TransferSyntaxUIDList")
    for ts in req.transfer_syntaxes:
        etree.SubElement(tsl, XI + "TransferSyntaxUID").text = ts
    return root


def decode_request(root: etree._Element) -> ImagingRetrieveRequest:
    studies = []
    for st in root.findall(XI + "StudyRequest"):
        series = [
            SeriesRequest(
                se.get("seriesInstanceUID", ""),
                [decode_document_request(d) for d in se.findall(f"{{{v.XDSB}}}DocumentRequest")],
            )
            for se in st.findall(XI + "SeriesRequest")
        ]
        studies.append(StudyRequest(st.get("studyInstanceUID", ""), series))
    syntaxes = [(ts.text or "").strip() for ts in root.iterfind(f"{XI}TransferSyntaxUIDList/{XI}TransferSyntaxUID")]
    return ImagingRetrieveRequest(studies, syntaxes)
