"""The public API: what `from raw import ...` and `from raw_runtime import ...` offer."""

from __future__ import annotations

import importlib
import inspect
import pickle
import pkgutil
import types
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import raw
import raw_runtime
from raw.errors import FieldError, RawError
from raw.system import WebhookConfig
from raw.up.state import UpState

if TYPE_CHECKING:
    from conftest import Project


def test_every_name_in_all_is_importable_from_raw() -> None:
    missing = [name for name in raw.__all__ if not hasattr(raw, name)]

    assert missing == []
    assert len(raw.__all__) == len(set(raw.__all__))


def test_every_public_object_of_raw_is_listed_in_all() -> None:
    public = {
        name
        for name, value in vars(raw).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and type(value).__module__ != "__future__"  # `from __future__ import annotations`
    }

    assert public - set(raw.__all__) == set()


@pytest.mark.parametrize(
    "name",
    ["BaseWorkflow", "step", "retry", "cache", "cache_step", "conditional", "run_workflow"],
)
def test_raw_runtime_exports_the_kit_s_own_objects(name: str) -> None:
    assert name in raw_runtime.__all__
    assert getattr(raw_runtime, name) is getattr(raw, name)


def test_raw_runtime_exports_nothing_of_its_own() -> None:
    for name in raw_runtime.__all__:
        assert getattr(raw_runtime, name) is getattr(raw, name), name


def test_original_style_workflow_runs_unchanged(project: Project) -> None:
    project.add_workflow(
        "count-lines",
        """
        #!/usr/bin/env python3
        # /// script
        # requires-python = ">=3.10"
        # dependencies = ["pydantic>=2"]
        # ///
        from pathlib import Path

        from pydantic import BaseModel, Field
        from raw_runtime import BaseWorkflow, cache_step, retry, step

        class Params(BaseModel):
            input_file: str = Field(..., description="Input file path")

        class CountLines(BaseWorkflow[Params]):
            @step("process")
            @retry(retries=3, backoff="exponential")
            @cache_step
            def process(self) -> dict:
                text = Path(self.params.input_file).read_text()
                return {"lines": len(text.splitlines())}

            def run(self) -> int:
                result = self.process()
                self.save("summary.json", result)
                self.log(f"counted {result['lines']} lines")
                return 0

        if __name__ == "__main__":
            CountLines.main()
        """,
    )
    data = project.root / "input.txt"
    data.write_text("a\nb\nc\n", encoding="utf-8")

    result = raw.run_workflow("count-lines", {"input_file": str(data)}, project_dir=project.root)

    assert result.status == "succeeded", result.error
    assert result.return_code == 0
    assert result.steps[0].result == {"lines": 3}
    assert [a.name for a in result.artifacts] == ["summary.json"]


# Errors cross process boundaries: a worker's or a subprocess's error is pickled to
# its parent. Each class is built from its constructor's signature; an annotation
# missing below fails the test and names itself, so a new error gets checked too.
_ARGUMENT_FOR_ANNOTATION: dict[str, Callable[[str], object]] = {
    "str": lambda name: f"the {name}",
    "str | None": lambda name: f"the {name}",
    "int": lambda name: 7,
    "int | None": lambda name: 503,
    "str | int": lambda name: 42,
    "float": lambda name: 2.5,
    "Path": lambda name: Path("/srv/hiring") / name,
    "Path | str": lambda name: Path("/srv/hiring") / name,
    "Sequence[str]": lambda name: [f"{name}-a", f"{name}-b"],
    "list[str]": lambda name: [f"{name}-a", f"{name}-b"],
    "Mapping[str, str]": lambda name: {"database": "connection refused"},
    "Sequence[FieldError]": lambda name: [FieldError("email", "not an email address")],
    "list[tuple[Path, str]]": lambda name: [(Path("/srv/hiring/runs/r-1"), "permission denied")],
    "list[WebhookConfig]": lambda name: [
        WebhookConfig(name="cv", path="/webhooks/cv", scheme="bearer", secrets=["CV_SECRET"])
    ],
    "UpState": lambda name: UpState(
        pid=4242,
        started_at=datetime(2026, 1, 5, 9, 30, tzinfo=UTC),
        host="127.0.0.1",
        port=8000,
        api_url="http://127.0.0.1:8000",
    ),
}


def _all_raw_errors() -> list[type[RawError]]:
    for module in pkgutil.walk_packages(raw.__path__, "raw."):
        importlib.import_module(module.name)
    found: list[type[RawError]] = []
    pending = [RawError]
    while pending:
        for subclass in pending.pop().__subclasses__():
            if subclass not in found:
                found.append(subclass)
                pending.append(subclass)
    return found


def _build(cls: type[RawError]) -> RawError:
    args: list[object] = []
    kwargs: dict[str, object] = {}
    for parameter in list(inspect.signature(cls.__init__).parameters.values())[1:]:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            return cls("Something went wrong: fix it and try again.")
        make = _ARGUMENT_FOR_ANNOTATION.get(str(parameter.annotation))
        if make is None:
            raise LookupError(f"no argument for {parameter.name}: {parameter.annotation}")
        if parameter.kind is parameter.KEYWORD_ONLY:
            kwargs[parameter.name] = make(parameter.name)
        else:
            args.append(make(parameter.name))
    return cls(*args, **kwargs)


def test_every_raw_error_survives_pickle_with_its_message_and_fields() -> None:
    errors = _all_raw_errors()
    failures: dict[str, str] = {}
    for cls in errors:
        name = f"{cls.__module__}.{cls.__qualname__}"
        try:
            error = _build(cls)
            copy = pickle.loads(pickle.dumps(error))
        except Exception as exc:  # reported with the others below
            failures[name] = f"{type(exc).__name__}: {exc}"
            continue
        if type(copy) is not cls or str(copy) != str(error) or vars(copy) != vars(error):
            failures[name] = f"came back as {type(copy).__name__}({str(copy)!r}, {vars(copy)})"

    assert failures == {}
    assert len(errors) > 80  # the walk reached every part, not just raw.errors
