"""raw._patterns: a pattern compiled on first use answers as the compiled one does."""

from __future__ import annotations

import re

import pytest

from raw._patterns import LazyPattern
from raw.workflow.script import _USES_BASE_WORKFLOW, _imports_base_workflow


def test_a_lazy_pattern_compiles_on_first_use_and_answers_as_re() -> None:
    lazy = LazyPattern(r"(?P<word>[a-z]+)-(\d+)", re.IGNORECASE)
    compiled = re.compile(r"(?P<word>[a-z]+)-(\d+)", re.IGNORECASE)
    assert lazy._compiled is None
    text = "Abc-12 x-3 no"
    assert lazy.match(text)[0] == compiled.match(text)[0]  # type: ignore[index]
    assert lazy._compiled is not None
    assert lazy.search("zz x-3")["word"] == "x"  # type: ignore[index]
    assert lazy.fullmatch("x-3") is not None and lazy.fullmatch("x-3 ") is None
    assert [m[0] for m in lazy.finditer(text)] == ["Abc-12", "x-3"]
    assert lazy.findall(text) == compiled.findall(text)
    assert lazy.sub("_", text) == compiled.sub("_", text)
    assert lazy.sub(lambda m: m["word"], text, count=1) == "Abc x-3 no"
    assert lazy.match(text, 7) is not None and lazy.match(text, 7, 8) is None
    assert lazy.flags == compiled.flags and lazy.pattern == compiled.pattern
    assert repr(lazy) == "LazyPattern('(?P<word>[a-z]+)-(\\\\d+)')"


@pytest.mark.parametrize(
    ("source", "usual"),
    [
        ("from raw import BaseWorkflow, step\n", True),
        ("from raw import (BaseWorkflow, step)\n", True),
        ("  from raw.workflow import step, BaseWorkflow  # the base\n", True),
        ("x = 1\r\nfrom raw import BaseWorkflow\r\n", True),
        ("from my_pkg.sub import BaseWorkflow\n", True),
        # Not the usual line: left to the pattern (or the parse).
        ("from raw import BaseWorkflowMixin\n", False),
        ("from raw import step  # BaseWorkflow\n", False),
        ("from raw import(BaseWorkflow)\n", False),
        ("from raw-x import BaseWorkflow\n", False),
        ("from raw import MyBaseWorkflow\n", False),
        ("class Hi(BaseWorkflow):\n", False),
        ("x = 'from raw import BaseWorkflow'\n", False),
        ("#from raw import BaseWorkflow\n", False),
        ("from raw import \\\n    BaseWorkflow\n", False),
        ("fromraw import BaseWorkflow\n", False),
        ("from raw importBaseWorkflow\n", False),
    ],
)
def test_the_usual_import_line_is_told_as_the_pattern_tells_it(source: str, usual: bool) -> None:
    assert _imports_base_workflow(source) is usual
    if usual:  # never a line the pattern would not match: the answer stays the pattern's
        assert _USES_BASE_WORKFLOW.search(source) is not None
