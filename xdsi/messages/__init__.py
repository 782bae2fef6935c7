"""Message transport: safe XML parsing, MTOM/XOP, SOAP 1.2 + WS-Addressing, raw capture reading.

One module per concern; nothing here knows ebRIM.
"""

from xdsi.messages.capture import RawMessage, read_message
from xdsi.messages.mtom import MtomMessage, Part, XopInclude, decode, encode, resolve_xop, xop_includes
from xdsi.messages.soap import SoapEnvelope, SoapFault, build_envelope, build_fault, parse_envelope
from xdsi.messages.xmlsafe import InputError, ParsedXml, parse_xml, parse_xml_info, parse_xml_with_notes

__all__ = [
    "InputError",
    "MtomMessage",
    "ParsedXml",
    "Part",
    "RawMessage",
    "SoapEnvelope",
    "SoapFault",
    "XopInclude",
    "build_envelope",
    "build_fault",
    "decode",
    "encode",
    "parse_envelope",
    "parse_xml",
    "parse_xml_info",
    "parse_xml_with_notes",
    "read_message",
    "resolve_xop",
    "xop_includes",
]
