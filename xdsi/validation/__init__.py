"""Validation of XDS/XDS-I.b messages, KOS and CDA documents: one pipeline, findings collected, never raised."""
