"""The imaging consumer: from a KOS manifest, retrieve the images it references by RAD-69, C-GET, C-MOVE or
WADO-RS, and check what arrived against the KOS (:mod:`.client`)."""

from __future__ import annotations
