"""Write a new project or workflow from the templates beside this module."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

from raw import local_state
from raw.errors import UsageError
from raw.project import RAW_DIR, check_workflow_id


class ScaffoldExistsError(UsageError):
    """The workflow's folder exists and --force was not given (exit 2, like other usage)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(f"{path} already exists; pass --force to overwrite it.")


def _template(name: str) -> Template:
    text = resources.files("raw.scaffold").joinpath("templates", name).read_text("utf-8")
    return Template(text)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class Created:
    root: Path
    files: list[Path]
    existed: bool = False


def init_project(root: Path, *, name: str | None = None) -> Created:
    """Create ``.raw/config.yaml`` and ``.raw/workflows/``; an existing project is left alone."""
    raw_dir = root / RAW_DIR
    config = raw_dir / "config.yaml"
    if config.exists():
        return Created(root, [], existed=True)
    files = [
        _write(
            config,
            _template("config.yaml.tmpl").substitute(name=json.dumps(name or root.resolve().name)),
        ),
        _write(raw_dir / ".gitignore", local_state.gitignore()),
    ]
    (raw_dir / "workflows").mkdir(parents=True, exist_ok=True)
    return Created(root, files)


def class_name(workflow_id: str) -> str:
    name = "".join(part.capitalize() for part in workflow_id.split("-"))
    return name if name[:1].isalpha() else "W" + name


def create_workflow(
    workflows_dir: Path, workflow_id: str, *, intent: str | None = None, force: bool = False
) -> Created:
    """Write a runnable workflow: run.py, mocks/params.json, mocks/llm.json and a test."""
    check_workflow_id(workflow_id)
    folder = workflows_dir / workflow_id
    if folder.exists() and not force:
        raise ScaffoldExistsError(folder)
    description = " ".join((intent or "Summarise a text.").split())
    test_name = f"test_{workflow_id.replace('-', '_')}.py"
    values = {
        "workflow_id": workflow_id,
        "class_name": class_name(workflow_id),
        # Escaped for a docstring: an intent ending in a quote must not close it early.
        "description": description.replace("\\", "\\\\").replace('"', '\\"'),
        "prompt_intent": json.dumps(description)[1:-1].replace("{", "{{").replace("}", "}}"),
        "test_path": f".raw/workflows/{workflow_id}/{test_name}",
    }
    files = [
        _write(folder / "run.py", _template("workflow/run.py.tmpl").substitute(values)),
        _write(folder / "mocks" / "params.json", _template("workflow/params.json.tmpl").template),
        _write(folder / "mocks" / "llm.json", _template("workflow/llm.json.tmpl").template),
        _write(folder / test_name, _template("workflow/test.py.tmpl").substitute(values)),
    ]
    return Created(folder, files)
