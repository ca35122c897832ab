"""Workflows shared by the CLI tests; each fixture writes one into the test's own project."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import Project

ECHO = '''
from __future__ import annotations

import enum
from typing import Literal

from pydantic import BaseModel, Field

from raw import BaseWorkflow, step


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Address(BaseModel):
    city: str
    zip_code: str = "00000"


class Params(BaseModel):
    cv_text: str = Field(..., description="The CV to read.")
    verbose: bool = True
    tag: list[str] = Field(default_factory=list)
    color: Color = Color.RED
    mode: Literal["fast", "slow"] = "fast"
    address: Address | None = None
    count: int = 1


class Echo(BaseWorkflow[Params]):
    """Return the params it was given."""

    @step("echo")
    def echo(self) -> dict:
        return self.params.model_dump(mode="json")
'''

BOOM = """
from raw import BaseWorkflow, step


class Boom(BaseWorkflow):
    @step("first")
    def first(self) -> int:
        return 1

    @step("explode")
    def explode(self) -> None:
        raise ValueError("kaboom: the second step broke")
"""


@pytest.fixture
def echo(project: Project) -> str:
    """A workflow whose output is its params, with one flag of every kind."""
    project.add_workflow("echo", ECHO)
    return "echo"


@pytest.fixture
def boom(project: Project) -> str:
    """A workflow whose second step raises ValueError."""
    project.add_workflow("boom", BOOM)
    return "boom"
