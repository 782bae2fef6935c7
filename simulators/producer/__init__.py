"""The document producer (Document Source) client: Flux 1 (ITI-41) and Flux 3 (ITI-57)."""
