"""Reports: the journal as HTML / text / JSON (``xdsi report``); the full conformance report comes later."""
