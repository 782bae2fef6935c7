#!/usr/bin/env python3
"""Run a command inside a new network namespace that holds only the loopback interface, brought up.

    python tools/netns.py -- python -m pytest -m interop tests/imaging
    python tools/netns.py --check        # exit 0 when a namespace can be made here, else 1 with the reason

dcmtk's storescp/movescu and Orthanc 1.10.1 listen on every interface and have no bind-address option: run them,
and the tests that talk to them, in such a namespace, where the only address is 127.0.0.0/8 (and ::1).

How: ``unshare --net`` (root) or ``unshare --net --map-root-user`` (an unprivileged user, where user namespaces
are allowed), then, inside, ``lo`` is set up with an ioctl (no dependency on iproute2) and the command is exec'ed
with ``XDSI_NETNS=1`` in its environment. Inside a namespace already (``XDSI_NETNS=1``) the command just runs.

From Python: :func:`netns_command` (the argv to run a command that way), :func:`netns_available` (whether it
works here, and why not), :func:`in_loopback_netns` (whether this process runs in a namespace holding only lo).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import struct
import subprocess
import sys

SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1
ENV_FLAG = "XDSI_NETNS"


def bring_lo_up() -> None:
    """Set the loopback interface up (in the current network namespace)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifreq = struct.pack("16sH14s", b"lo", 0, b"\0" * 14)
        flags = struct.unpack("16sH14s", fcntl.ioctl(s.fileno(), SIOCGIFFLAGS, ifreq))[1]
        if not flags & IFF_UP:
            fcntl.ioctl(s.fileno(), SIOCSIFFLAGS, struct.pack("16sH14s", b"lo", flags | IFF_UP, b"\0" * 14))


def interfaces() -> list[str]:
    """The network interfaces of this process's namespace (not /sys/class/net: sysfs shows the namespace it
    was mounted in)."""
    try:
        return sorted(name for _index, name in socket.if_nameindex())
    except OSError:
        return []


def in_loopback_netns() -> bool:
    """Whether this process runs in a network namespace whose only interface is ``lo``."""
    return interfaces() == ["lo"]


def netns_command(argv: list[str]) -> list[str]:
    """The argv that runs ``argv`` in a fresh namespace holding only lo (``argv`` itself when already in one)."""
    if os.environ.get(ENV_FLAG) == "1" and in_loopback_netns():
        return list(argv)
    unshare = shutil.which("unshare") or "unshare"
    flags = ["--net"] if os.geteuid() == 0 else ["--net", "--map-root-user"]
    return [unshare, *flags, "--", sys.executable, os.path.abspath(__file__), "--inner", "--", *argv]


def netns_available() -> tuple[bool, str]:
    """(True, "") when a loopback-only namespace can be made here, else (False, the reason)."""
    if shutil.which("unshare") is None:
        return False, "unshare (util-linux) is not installed"
    try:
        proc = subprocess.run(
            netns_command([sys.executable, "-c", "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0))"]),
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"unshare failed: {exc}"
    if proc.returncode != 0:
        return False, f"unshare --net failed (root or user namespaces needed): {proc.stderr.strip()[-300:]}"
    return True, ""


def _inner(argv: list[str]) -> int:
    try:
        bring_lo_up()
    except OSError as exc:
        print(f"netns: cannot bring lo up: {exc}", file=sys.stderr)
        return 1
    os.environ[ENV_FLAG] = "1"
    try:
        os.execvp(argv[0], argv)
    except OSError as exc:
        print(f"netns: cannot run {argv[0]}: {exc}", file=sys.stderr)
        return 127


def main(args: list[str]) -> int:
    if args[:1] == ["--check"]:
        ok, why = netns_available()
        print("ok" if ok else why)
        return 0 if ok else 1
    inner = args[:1] == ["--inner"]
    if inner:
        args = args[1:]
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        print("usage: netns.py [--check] -- COMMAND [ARG...]", file=sys.stderr)
        return 2
    if inner:
        return _inner(args)
    argv = netns_command(args)
    if argv == args:
        os.execvp(args[0], args)
    return subprocess.call(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
