"""Instructions per order of `process_event`, counted by valgrind's callgrind: unlike CPU time, the count does not
depend on what else the machine is doing (the other hardware thread of a core, caches shared with other processes),
so two versions of the code compare on a busy machine. It prints figures; it is not a test.

    .venv/bin/python -m bench.netsuite_throughput.instructions [--orders 60] [--tree PATH]

It runs bench.netsuite_throughput.profile_order under callgrind with instrumentation off, and profile_order turns
it on for the timed orders only (after a warm-up), so the count covers `process_event` in order against the
NetSuite simulator and nothing of the setup. `--tree` runs another checkout of the code (PYTHONPATH) with this
virtualenv: how a before/after pair is taken.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from devtools.devstack import ROOT


def count(orders: int, tree: Path | None) -> int:
    """Instructions executed by the instrumented orders (callgrind's program total)."""
    if shutil.which("valgrind") is None or shutil.which("callgrind_annotate") is None:
        raise SystemExit("valgrind (with callgrind_annotate) is needed: apt-get install valgrind")
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    with tempfile.TemporaryDirectory(prefix="shopsync-callgrind-") as tmp:
        out = Path(tmp) / "callgrind.out"
        run = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={out}",
                sys.executable,
                "-m",
                "bench.netsuite_throughput.profile_order",
                "--orders",
                str(orders),
                "--quiet-wait",
                "0",
                "--callgrind",
            ],
            cwd=tree or ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        if run.returncode != 0 or not out.exists():
            raise SystemExit(
                f"profile_order under callgrind failed ({run.returncode}):\n{run.stdout[-2000:]}{run.stderr[-2000:]}"
            )
        annotated = subprocess.run(["callgrind_annotate", str(out)], capture_output=True, text=True, check=True).stdout
    found = re.search(r"([\d,]+)\s+(?:\([^)]*\)\s+)?PROGRAM TOTALS", annotated)
    if found is None:
        raise SystemExit("callgrind_annotate printed no PROGRAM TOTALS line")
    return int(found.group(1).replace(",", ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.netsuite_throughput.instructions")
    parser.add_argument("--orders", type=int, default=60, help="orders counted (each ~50x slower under valgrind)")
    parser.add_argument("--tree", type=Path, help="another checkout of the code to count (e.g. a git worktree)")
    args = parser.parse_args(argv)
    if not 10 <= args.orders <= 400:
        parser.error("--orders: between 10 and 400")
    total = count(args.orders, args.tree)
    per_order = total / args.orders / 1e6
    print(f"process_event: {per_order:.2f} M instructions per order ({args.orders} orders, {total:,} in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
