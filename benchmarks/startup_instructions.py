"""`raw run noop --json` against noop_plain.py in CPU instructions: a figure the load cannot move.

    cd benchmarks && PYTHONPATH=../src ../.venv/bin/python startup_instructions.py [--json]

On a shared machine the wall-clock ratio of workflow_overhead.py moves by a tenth
between runs. This counts the instructions each launch executes, under valgrind's
callgrind (``apt-get install valgrind``; about 20 s a launch): the same count on a busy
machine as on a quiet one, to within ~0.1 %, so two trees can be compared in minutes.
It counts work, not time: a ratio of instructions is not a ratio of seconds (I/O,
caches and the page cache are left out), so quote it beside workflow_overhead.py's.

Launched, as there: ``raw run noop --json`` and ``noop_plain.py --json`` in a
one-workflow project, and ``raw run wf-0000 --json`` in a project of 1,000 workflows
(startup_growth.py's), with the kit's bytecode written first.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from startup_growth import make_growing_project
from workflow_overhead import HERE, compile_kit, launch_env, launch_once, make_project

COLLECTED = re.compile(r"Collected : (\d+)")


def instructions(cmd: list[str], cwd: Path) -> int:
    """The instructions one launch of ``cmd`` executes (callgrind's total)."""
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd],
        cwd=cwd,
        env=launch_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    match = COLLECTED.search(done.stderr)
    if match is None:
        raise SystemExit(f"valgrind printed no instruction count:\n{done.stderr[-2000:]}")
    return int(match[1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--json", action="store_true", help="the figures as JSON on stdout (the rest on stderr)"
    )
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("startup_instructions.py needs valgrind: apt-get install valgrind")
    with contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext():
        result = run()
    if args.json:
        print(json.dumps(result))


def run() -> dict:
    raw_bin = str(Path(sys.executable).with_name("raw"))
    with tempfile.TemporaryDirectory() as tmp:
        one = make_project(Path(tmp) / "one")
        many = make_growing_project(Path(tmp) / "many", 1000)
        compile_kit()
        launches = {
            "raw": ([raw_bin, "run", "noop", "--json"], one),
            "plain": ([sys.executable, str(HERE / "noop_plain.py"), "--json"], one),
            "raw_1000": ([raw_bin, "run", "wf-0000", "--json"], many),
        }
        counts = {}
        for name, (cmd, cwd) in launches.items():
            launch_once(cmd, cwd)  # warm: the config cache, the workflow's bytecode
            counts[name] = instructions(cmd, cwd)
    result = {
        "benchmark": "startup_instructions",
        "instructions": counts,
        "ratio_raw_plain": counts["raw"] / counts["plain"],
        "ratio_1000_1": counts["raw_1000"] / counts["raw"],
    }
    print("instructions per launch (callgrind):")
    print(f"    raw run noop --json                 {counts['raw'] / 1e6:8.1f} M")
    print(f"    noop_plain.py --json                {counts['plain'] / 1e6:8.1f} M")
    print(f"    raw run, 1,000 workflows            {counts['raw_1000'] / 1e6:8.1f} M")
    print(f"    ratio raw / plain                   {result['ratio_raw_plain']:8.3f}")
    print(f"    ratio 1,000 workflows / 1           {result['ratio_1000_1']:8.3f}")
    return result


if __name__ == "__main__":
    main()
