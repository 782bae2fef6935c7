"""The XML namespaces of the messages, and the prefixes used in locations and when building messages."""

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
WSA = "http://www.w3.org/2005/08/addressing"
#: the pre-standard WS-Addressing submission namespace (still seen in old stacks)
WSA_2004 = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
XOP = "http://www.w3.org/2004/08/xop/include"
RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
RS = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0"
LCM = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
QUERY = "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"
XDSB = "urn:ihe:iti:xds-b:2007"
XDSI = "urn:ihe:rad:xdsi-b:2009"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
SAML2 = "urn:oasis:names:tc:SAML:2.0:assertion"
HL7 = "urn:hl7-org:v3"
XML_NS = "http://www.w3.org/XML/1998/namespace"
XS = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

#: prefix -> namespace (XPath evaluation, building messages)
NSMAP: dict[str, str] = {
    "soap": SOAP12,
    "soap11": SOAP11,
    "wsa": WSA,
    "xop": XOP,
    "rim": RIM,
    "rs": RS,
    "lcm": LCM,
    "query": QUERY,
    "xdsb": XDSB,
    "xdsi": XDSI,
    "wsse": WSSE,
    "saml2": SAML2,
    "hl7": HL7,
}
#: namespace -> prefix (readable locations in findings)
PREFIXES: dict[str, str] = {uri: prefix for prefix, uri in NSMAP.items()}
