"""``self.console``: a console on stderr for workflows written for the original runtime.

With ``rich`` installed it is rich's ``Console(stderr=True)``, markup and all;
without it, a small stand-in whose ``print`` writes the text with the
``[bold]...[/]`` markup removed. stdout stays free for ``--json``.
"""

from __future__ import annotations

import re
import sys
from typing import Any

__all__ = ["PlainConsole", "stderr_console"]

_MARKUP = re.compile(r"\[/?[a-zA-Z#][^\[\]]*\]|\[/\]")


class PlainConsole:
    """``print(*objects, sep=" ", end="\\n")`` to stderr, without rich markup."""

    def print(self, *objects: Any, sep: str = " ", end: str = "\n", **_style: Any) -> None:
        text = sep.join(str(o) for o in objects)
        sys.stderr.write(_MARKUP.sub("", text) + end)
        sys.stderr.flush()

    def log(self, *objects: Any, **style: Any) -> None:
        self.print(*objects, **style)


def stderr_console() -> Any:
    """rich's console on stderr when rich is installed, else :class:`PlainConsole`."""
    try:
        # Lazy: rich is optional; a workflow without self.console never loads it.
        from rich.console import Console
    except ImportError:
        return PlainConsole()
    return Console(stderr=True)
