"""The document sharing manager (the DMP's role): XDS.b registry and repository for Flux 1–8."""
