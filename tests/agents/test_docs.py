"""search_docs and read_doc: the project's docs offline, packaged with the kit."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from raw.mcp import docs

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_carries_the_docs_where_the_server_reads_them() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    include = config["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert include["docs"] == "raw/mcp/_docs"
    assert docs.docs_dir() == ROOT / "docs"  # a source checkout reads docs/ itself
    assert {"agents", "config", "simulate", "workflows"} <= set(docs.doc_names())


def test_search_finds_the_section_that_answers() -> None:
    found = docs.search("retry a dead letter", limit=5)
    assert found["results"]
    assert any(r["doc"] in ("coordinator", "operator") for r in found["results"])
    assert all(r["excerpt"] for r in found["results"])


def test_read_gives_a_doc_or_one_section_and_names_what_exists() -> None:
    whole = docs.read("simulate")
    assert whole["text"].startswith("# ")
    one = docs.read("agents", section="the tools")
    assert one["section"] == "The tools" and "search_docs" in one["text"]
    with pytest.raises(docs.DocNotFoundError, match="Did you mean simulate"):
        docs.read("simulat")
