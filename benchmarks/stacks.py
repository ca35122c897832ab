"""Where a server's CPU went: py-spy's folded stacks (webhook_ingest.py --py-spy DIR) by part.

    python benchmarks/stacks.py DIR/ours-0-0-c32-*.txt -- DIR/hand-c32-*.txt

Each sample is charged to the part of its innermost frame that belongs to a known
part (the C driver under SQLAlchemy counts as the driver, SQLAlchemy's own frames as
SQLAlchemy, ...); frames of no known part are "other". Files before ``--`` are one
side, after it the other; each side's samples are summed over its files. Also shown,
inclusive (any frame of the stack): the share of samples under a few functions.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

PARTS = (  # (part, substring of a frame's file), innermost match wins; order breaks ties
    ("signature check", "standardwebhooks"),
    ("signature check", "coordinator/signing.py"),
    ("signature check", "coordinator/verify.py"),
    ("signature check", "hmac.py"),
    ("database driver", "sqlite3"),
    ("database driver", "aiosqlite"),
    ("database driver", "psycopg"),
    ("SQLAlchemy", "sqlalchemy"),
    ("Pydantic", "pydantic"),
    ("json", "json/"),
    ("HTTP (uvicorn, h11/httptools)", "uvicorn"),
    ("HTTP (uvicorn, h11/httptools)", "h11"),
    ("HTTP (uvicorn, h11/httptools)", "httptools"),
    ("ASGI (Starlette, FastAPI)", "starlette"),
    ("ASGI (Starlette, FastAPI)", "fastapi"),
    ("threads (anyio, concurrent)", "anyio"),
    ("threads (anyio, concurrent)", "concurrent/futures"),
    ("threads (anyio, concurrent)", "threading.py"),
    ("the kit (raw.coordinator)", "raw/coordinator"),
    ("the kit (raw, other)", "/raw/"),
    ("the hand-written route", "ingest_handwritten.py"),
    ("entity handler", "ingest_models.py"),
    ("event loop (asyncio)", "asyncio"),
)
INCLUSIVE = (
    ("group commit (GroupCommit)", "group_commit.py"),
    ("dispatcher", "dispatcher.py"),
    ("the outbox poller (hand-written)", "poll_once"),
    ("request body validated", "model_validate"),
)


def part(frame: str) -> str | None:
    for name, needle in PARTS:
        if needle in frame:
            return name
    return None


def load(files: list[Path]) -> tuple[Counter[str], Counter[str], int]:
    parts: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for file in files:
        for line in file.read_text(errors="replace").splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not stack or not count_text.isdigit():
                continue
            count = int(count_text)
            frames = stack.split(";")
            total += count
            found = next((p for f in reversed(frames) if (p := part(f))), "other")
            parts[found] += count
            for name, needle in INCLUSIVE:
                if any(needle in f for f in frames):
                    inclusive[name] += count
    return parts, inclusive, total


def main() -> None:
    args = sys.argv[1:]
    if "--" not in args:
        raise SystemExit(__doc__)
    cut = args.index("--")
    sides = [
        ("first", [Path(a) for a in args[:cut]]),
        ("second", [Path(a) for a in args[cut + 1 :]]),
    ]
    loaded = [(name, *load(files)) for name, files in sides]
    names = sorted({p for _, parts, _, _ in loaded for p in parts}, key=lambda p: -loaded[0][1][p])
    print(f"{'part (innermost frame)':<34} {'first':>16} {'second':>16}")
    for p in names:
        cells = [
            f"{parts[p]:6d} {100 * parts[p] / max(total, 1):5.1f}%" for _, parts, _, total in loaded
        ]
        print(f"{p:<34} {cells[0]:>16} {cells[1]:>16}")
    print(f"{'samples (100 a second)':<34} {loaded[0][3]:>16} {loaded[1][3]:>16}")
    print("inclusive:")
    for name, _ in INCLUSIVE:
        cells = [
            f"{inc[name]:6d} {100 * inc[name] / max(total, 1):5.1f}%" for _, _, inc, total in loaded
        ]
        print(f"  {name:<32} {cells[0]:>16} {cells[1]:>16}")


if __name__ == "__main__":
    main()
