"""Fails when a process of the test run outlives it: ``make test`` runs it after pytest.

Every process the run starts (servers, query and validation workers, forkservers, resource
trackers, engines) inherits ``PTCEKB_TEST_RUN`` from make, including those orphaned when a test
kills their parent with SIGKILL; so they are found by their environment, not by their parent.
The processes that ran the suite (this one's ancestors: make, the shell) are not counted. Waits a
few seconds for the last ones to exit, then lists and kills what remains, and exits 1.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

GRACE_SECONDS = 5.0


def ancestors() -> set[int]:
    pids, pid = set(), os.getpid()
    while pid > 1:
        pids.add(pid)
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return pids


def of_this_run(marker: bytes) -> dict[int, str]:
    found, mine = {}, ancestors()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in mine:
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return {pid: cmd for pid, cmd in found.items() if cmd}  # zombies have no command line


def main() -> int:
    run = os.environ.get("PTCEKB_TEST_RUN")
    if not run:
        print("leftovers: PTCEKB_TEST_RUN is not set; nothing to check", file=sys.stderr)
        return 0
    marker = f"PTCEKB_TEST_RUN={run}".encode()
    deadline = time.monotonic() + GRACE_SECONDS
    while (left := of_this_run(marker)) and time.monotonic() < deadline:
        time.sleep(0.2)
    if not left:
        print("leftovers: no process of the test run is left")
        return 0
    print(f"leftovers: {len(left)} process(es) of the test run outlived it by {GRACE_SECONDS:.0f} s:", file=sys.stderr)
    for pid, command in sorted(left.items()):
        print(f"  {pid}: {command[:200]}", file=sys.stderr)
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return 1


if __name__ == "__main__":
    sys.exit(main())
