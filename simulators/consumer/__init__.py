"""The document consumer client: Flux 5 (ITI-18) and Flux 7 (ITI-43)."""
