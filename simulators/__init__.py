"""Real network actors of the volet, each startable alone (``xdsi serve ...``) and as a pytest fixture."""
