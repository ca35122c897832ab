"""The public API: what `from raw import ...` and `from raw_runtime import ...` offer."""

from __future__ import annotations

import types
from typing import TYPE_CHECKING

import pytest

import raw
import raw_runtime

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
