"""The project's docs and config reference, offline: search by words, read by name.

An installed kit carries the docs in ``raw/mcp/_docs`` (the wheel's force-include of
``docs/``); a source checkout reads ``docs/`` itself. ``config`` is docs/config.md, the
config reference, whose table ``raw.config.reference`` generates.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from raw.console import NotFoundError

__all__ = ["DocNotFoundError", "Section", "doc_names", "docs_dir", "read", "search", "sections"]

_WORD = re.compile(r"[a-z0-9_][a-z0-9_.\-]*")
EXCERPT_CHARS = 320


class DocNotFoundError(NotFoundError):
    """No doc has that name, or it has no such section."""


def docs_dir() -> Path:
    """Where the docs are: packaged with the kit, else the source checkout's docs/."""
    packaged = Path(__file__).parent / "_docs"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "docs"


@cache
def _files() -> dict[str, Path]:
    root = docs_dir()
    return {p.stem: p for p in sorted(root.glob("*.md"))}


def doc_names() -> list[str]:
    return list(_files())


def doc_path(name: str) -> Path:
    files = _files()
    key = name.removesuffix(".md")
    if key not in files:
        close = difflib.get_close_matches(key, list(files), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise DocNotFoundError(f"There is no doc '{name}'.{hint} Docs: {', '.join(files)}.")
    return files[key]


@dataclass(frozen=True)
class Section:
    doc: str
    heading: str
    text: str


def sections(name: str) -> list[Section]:
    """A doc cut at its headings (#, ##, ###); code blocks are not headings."""
    text = doc_path(name).read_text(encoding="utf-8")
    out: list[Section] = []
    heading, fenced = name, False
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and re.match(r"#{1,3} ", line):
            if any(part.strip() for part in lines):
                out.append(Section(name, heading, "\n".join(lines).strip()))
            heading, lines = line.lstrip("#").strip(), []
            continue
        lines.append(line)
    if any(part.strip() for part in lines):
        out.append(Section(name, heading, "\n".join(lines).strip()))
    return out


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def search(query: str, *, limit: int = 8) -> dict[str, Any]:
    """The sections that best match ``query``'s words (headings count three times)."""
    terms = [t for t in _words(query) if len(t) > 1]
    hits: list[tuple[float, Section]] = []
    for name in doc_names():
        for section in sections(name):
            body, head = _words(section.text), _words(section.heading)
            score = 0.0
            for term in terms:
                score += sum(1 for w in body if w.startswith(term))
                score += 3 * sum(1 for w in head if w.startswith(term))
            covered = sum(1 for term in terms if term in section.text.lower())
            if score:
                hits.append((score * (1 + covered), section))
    hits.sort(key=lambda hit: -hit[0])
    return {
        "query": query,
        "results": [
            {
                "doc": s.doc,
                "section": s.heading,
                "score": round(score, 1),
                "excerpt": _excerpt(s.text, terms),
            }
            for score, s in hits[:limit]
        ],
        "docs": doc_names(),
    }


def _excerpt(text: str, terms: list[str]) -> str:
    lowered = text.lower()
    where = min((i for i in (lowered.find(t) for t in terms) if i >= 0), default=0)
    start = max(0, where - EXCERPT_CHARS // 3)
    snippet = " ".join(text[start : start + EXCERPT_CHARS].split())
    return ("..." if start else "") + snippet + ("..." if start + EXCERPT_CHARS < len(text) else "")


def read(name: str, *, section: str | None = None) -> dict[str, Any]:
    """One doc's text, or one section of it (by heading, closest match accepted)."""
    path = doc_path(name)
    if section is None:
        return {"doc": path.stem, "path": path.name, "text": path.read_text(encoding="utf-8")}
    found = sections(path.stem)
    headings = [s.heading for s in found]
    lowered = {h.lower(): h for h in headings}
    match = lowered.get(section.lower())
    if match is None:
        close = difflib.get_close_matches(section, headings, n=1, cutoff=0.4)
        if not close:
            raise DocNotFoundError(
                f"The doc '{path.stem}' has no section '{section}'. Sections: "
                + "; ".join(headings)
            )
        match = close[0]
    chosen = next(s for s in found if s.heading == match)
    return {"doc": path.stem, "path": path.name, "section": chosen.heading, "text": chosen.text}
