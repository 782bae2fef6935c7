"""pytest-bdd step libraries, one module per domain (cda_steps: IMG-DA-IMG / IMG-CR-IMG documents)."""
