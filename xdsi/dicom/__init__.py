"""DICOM side of the harness: synthetic studies (``study``), the XDS-I.b manifest (``kos``), shared vocabulary."""
