"""``python -m simulators.registry [OPTIONS]`` is ``xdsi serve registry [OPTIONS]``."""

from __future__ import annotations

import sys

from xdsi.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["serve", "registry", *sys.argv[1:]]))
