"""Files of a project made by the original RAW runtime, written for these tests.

Each is written from what the original documents (its `raw init`, its `raw create`
folder naming, its workflow skill's plain-script template and dry-run template, its
GUIDE's hello-world run.py); none is copied from its repository.
"""

from __future__ import annotations

ORIGINAL_CONFIG = """\
created_at: '2026-01-10T08:30:00.000000+00:00'
version: 0.2.0
"""

ORIGINAL_CONFIG_WITH_BUILDER = """\
version: 0.2.0
created_at: '2026-01-10T08:30:00.000000+00:00'
builder:
  budgets:
    max_iterations: 6
    max_minutes: 20
  gates:
    default: [validate, dry]
    optional:
      lint:
        command: python -c "print('lint ok')"
  skills:
    auto_discover: true
  mode:
    plan_first: true
"""

# The skill's plain-script template, as its docs describe it: Pydantic params, a class
# with fetch/process/save steps, argparse flags, results/ relative to the working folder.
SKILL_RUN_PY = '''\
#!/usr/bin/env python3
# /// script
# requires-python = ">=3.10"
# dependencies = [
#   "pydantic>=2.0",
#   "rich>=13.0",
# ]
# ///
"""Summarise a list of items - a plain script in the original skill's shape.

Usage:
    uv run run.py --topic demo [--max-items 3]
"""

import argparse
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from rich.console import Console

console = Console()


class WorkflowParams(BaseModel):
    topic: str = Field(..., description="What the summary is about")
    max_items: int = Field(default=3, description="How many items to keep")


class Workflow:
    def __init__(self, params: WorkflowParams) -> None:
        self.params = params
        self.results_dir = Path("results")
        self.results_dir.mkdir(exist_ok=True)

    def fetch(self) -> dict[str, Any]:
        console.print("[bold blue]>[/] Fetching data...")
        return {"items": [f"{self.params.topic}-{i}" for i in range(10)]}

    def process(self, data: dict[str, Any]) -> dict[str, Any]:
        console.print("[bold blue]>[/] Processing data...")
        return {"topic": self.params.topic, "items": data["items"][: self.params.max_items]}

    def save(self, result: dict[str, Any]) -> str:
        path = self.results_dir / "output.json"
        path.write_text(json.dumps(result, indent=2))
        console.print(f"[green]>[/] Saved to {path}")
        return str(path)

    def run(self) -> int:
        try:
            self.save(self.process(self.fetch()))
            return 0
        except Exception as exc:
            console.print(f"[bold red]Error:[/] {exc}")
            return 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\\n")[0])
    parser.add_argument("--topic", required=True, help="What the summary is about")
    parser.add_argument("--max-items", type=int, default=3, help="How many items to keep")
    args = parser.parse_args()
    params = WorkflowParams(topic=args.topic, max_items=args.max_items)
    exit(Workflow(params).run())


if __name__ == "__main__":
    main()
'''

# The skill's dry-run template: mocks/ next to the file, results/ in the working folder.
SKILL_DRY_RUN_PY = '''\
#!/usr/bin/env python3
# /// script
# requires-python = ">=3.10"
# dependencies = ["pydantic>=2.0", "rich>=13.0"]
# ///
"""Dry run with mocked data: no external calls."""

import json
from pathlib import Path
from typing import Any

from rich.console import Console

console = Console()
MOCKS_DIR = Path(__file__).parent / "mocks"


def load_mock(name: str) -> dict[str, Any]:
    mock_file = MOCKS_DIR / f"{name}.json"
    if mock_file.exists():
        return json.loads(mock_file.read_text())
    console.print(f"[yellow]Warning:[/] Mock file not found: {mock_file}")
    return {}


def main() -> None:
    console.print("[bold blue]Dry run[/] using mocked data")
    data = load_mock("api_response")
    result = {"dry_run": True, "input_keys": sorted(data)}
    results_dir = Path("results")
    results_dir.mkdir(exist_ok=True)
    (results_dir / "output.json").write_text(json.dumps(result, indent=2))
    console.print("[bold green]Dry run complete![/]")


if __name__ == "__main__":
    main()
'''

# The GUIDE's hello-world: a plain script writing results/greeting.txt.
GUIDE_HELLO_RUN_PY = '''\
#!/usr/bin/env python3
# /// script
# requires-python = ">=3.10"
# dependencies = ["pydantic>=2.0", "rich>=13.0"]
# ///
"""Hello World Workflow"""

from pathlib import Path

from pydantic import BaseModel, Field
from rich.console import Console

console = Console()


class WorkflowParams(BaseModel):
    name: str = Field(default="World", description="Name to greet")


class HelloWorldWorkflow:
    def __init__(self, params: WorkflowParams) -> None:
        self.params = params

    def run(self) -> int:
        message = f"Hello, {self.params.name}!"
        console.print(f"[green]>[/] {message}")
        Path("results").mkdir(exist_ok=True)
        Path("results/greeting.txt").write_text(message)
        return 0


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--name", default="World")
    args = parser.parse_args()
    exit(HelloWorldWorkflow(WorkflowParams(**vars(args))).run())
'''

# A BaseWorkflow file leaning on what loaded code relied on in the original: the run
# folder as working directory, self.log's output.log, self.run_dir, nargs list flags,
# @retry's positional count and linear backoff, .env and a relative write.
COUNTER_RUN_PY = """\
#!/usr/bin/env python3
# /// script
# requires-python = ">=3.10"
# dependencies = ["pydantic>=2"]
# ///
import os
from pathlib import Path

from pydantic import BaseModel, Field

from raw_runtime import BaseWorkflow, retry, step


class Params(BaseModel):
    tags: list[str] = Field(default_factory=list, description="Tags to count")
    label: str = Field(default="tags", description="A label")


class CountTags(BaseWorkflow[Params]):
    @step("count")
    @retry(2, backoff="linear", base_delay=0.01)
    def count(self) -> dict:
        return {"label": self.params.label, "count": len(self.params.tags)}

    def run(self) -> int:
        result = self.count()
        self.save("summary.json", result)
        (self.run_dir / "note.txt").write_text("from run_dir")
        Path("relative.txt").write_text(os.environ.get("GREETING", "unset"))
        self.log(f"counted {result['count']} tags")
        return 0


if __name__ == "__main__":
    CountTags.main()
"""
