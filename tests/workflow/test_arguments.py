"""`raw.workflow.arguments`: flags generated from a Params model, parsed in-process."""

from __future__ import annotations

import enum
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field

from raw.workflow.arguments import flag_name, flags_for, parse_flags


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Address(BaseModel):
    city: str
    zip_code: str = "00000"


class Params(BaseModel):
    cv_text: str = Field(..., description="The CV to read.")
    verbose: bool = True
    dry_mode: bool = False
    tags: list[str] = Field(default_factory=list)
    scores: list[int] = [1, 2]
    addresses: list[Address] = []
    mode: Literal["fast", "slow"] = "fast"
    retries: Literal[1, 3] = 1
    level: Level = Level.LOW
    address: Address | None = None
    extra: dict[str, int] = {}
    count: Annotated[int, Field(ge=0)] = 0
    job_title: str | None = Field(default=None, alias="jobTitle")


def parse(*tokens: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    values, errors = parse_flags("analyze-cv", Params, list(tokens))
    return values, [(e.field, e.message) for e in errors]


def test_snake_case_fields_become_kebab_case_flags() -> None:
    flags = {f.field: f.flag for f in flags_for(Params)}
    assert flags["cv_text"] == "--cv-text"
    assert flags["job_title"] == "--job-title"
    assert parse("--cv-text", "a") == ({"cv_text": "a"}, [])


def test_snake_case_spelling_and_inline_values_are_accepted() -> None:
    assert parse("--cv_text", "a", "--count=4") == ({"cv_text": "a", "count": "4"}, [])
    assert parse("--cv-text=a=b") == ({"cv_text": "a=b"}, [])


def test_bool_flags_switch_on_and_off() -> None:
    assert parse("--no-verbose", "--dry-mode") == ({"verbose": False, "dry_mode": True}, [])
    assert parse("--verbose=false", "--dry-mode=yes") == (
        {"verbose": False, "dry_mode": True},
        [],
    )
    assert Params.model_validate({"cv_text": "a", **parse("--no-verbose")[0]}).verbose is False


def test_bool_flag_with_a_value_that_is_not_a_bool_is_an_error() -> None:
    assert parse("--verbose=maybe")[1] == [("--verbose", "'maybe' is not true or false.")]
    assert parse("--no-verbose=true")[1] == [("--verbose", "--no-verbose takes no value.")]


def test_lists_are_repeatable_or_one_json_array() -> None:
    assert parse("--tags", "a", "--tags", "b") == ({"tags": ["a", "b"]}, [])
    assert parse("--tags", '["a", "b"]', "--tags", "c") == ({"tags": ["a", "b", "c"]}, [])
    values, errors = parse("--scores", "3", "--scores", "4")
    assert errors == []
    assert Params.model_validate({"cv_text": "x", **values}).scores == [3, 4]


def test_list_flag_takes_several_values_as_the_original_runtime_did() -> None:
    assert parse("--tags", "a", "b", "--cv-text", "x") == ({"tags": ["a", "b"], "cv_text": "x"}, [])
    assert parse("--tags", "a", "b", "--tags", "c") == ({"tags": ["a", "b", "c"]}, [])
    assert parse("--tags=a", "--tags", "b", "c") == ({"tags": ["a", "b", "c"]}, [])


def test_list_flag_with_no_values_is_an_empty_list() -> None:
    assert parse("--tags", "--cv-text", "x") == ({"tags": [], "cv_text": "x"}, [])
    assert parse("--tags") == ({"tags": []}, [])


def test_list_of_models_takes_one_json_object_per_flag() -> None:
    values, errors = parse("--addresses", '{"city": "Oslo"}', "--addresses", '{"city": "Rome"}')
    assert errors == []
    cities = [a.city for a in Params.model_validate({"cv_text": "x", **values}).addresses]
    assert cities == ["Oslo", "Rome"]
    assert parse("--addresses", "Oslo")[1][0][0] == "--addresses"


def test_literal_and_enum_take_one_of_their_values() -> None:
    values, errors = parse("--mode", "slow", "--retries", "3", "--level", "2")
    assert errors == []
    params = Params.model_validate({"cv_text": "x", **values})
    assert (params.mode, params.retries, params.level) == ("slow", 3, Level.HIGH)


def test_a_value_outside_the_choices_names_the_choices() -> None:
    assert parse("--mode", "medium", "--level", "9")[1] == [
        ("--mode", "'medium' is not one of: fast, slow."),
        ("--level", "'9' is not one of: 1, 2."),
    ]


def test_nested_models_and_dicts_take_json() -> None:
    values, errors = parse("--address", '{"city": "Oslo"}', "--extra", '{"a": 1}')
    assert errors == []
    params = Params.model_validate({"cv_text": "x", **values})
    assert params.address == Address(city="Oslo")
    assert params.extra == {"a": 1}
    assert parse("--address", "Oslo")[1][0][0] == "--address"
    assert "expects JSON" in parse("--address", "Oslo")[1][0][1]


def test_an_alias_is_the_key_pydantic_validates() -> None:
    values, errors = parse("--job-title", "Engineer")
    assert (values, errors) == ({"jobTitle": "Engineer"}, [])
    assert Params.model_validate({"cv_text": "x", **values}).job_title == "Engineer"


def test_a_value_may_start_with_a_single_dash() -> None:
    assert parse("--count", "-5") == ({"count": "-5"}, [])


def test_a_flag_without_its_value_is_an_error() -> None:
    assert parse("--cv-text")[1] == [("--cv-text", "--cv-text needs a value.")]
    assert parse("--cv-text", "--verbose") == (
        {"verbose": True},
        [("--cv-text", "--cv-text needs a value.")],
    )


def test_unknown_flag_suggests_the_closest_and_skips_its_value() -> None:
    values, errors = parse("--cv-txt", "a", "--count", "2")
    assert values == {"count": "2"}
    assert errors == [
        ("--cv-txt", "workflow 'analyze-cv' has no parameter '--cv-txt'. Did you mean '--cv-text'?")
    ]
    assert "Did you mean '--no-verbose'?" in parse("--no-verbos")[1][0][1]


def test_unknown_flag_without_a_close_match_lists_the_parameters() -> None:
    class One(BaseModel):
        name: str

    _, errors = parse_flags("greet", One, ["--zzzzzz"])
    assert (
        errors[0].message
        == "workflow 'greet' has no parameter '--zzzzzz'. Its parameters are: --name."
    )


def test_a_workflow_without_params_says_so() -> None:
    class NoFields(BaseModel):
        pass

    _, errors = parse_flags("tick", NoFields, ["--name", "x"])
    assert errors[0].message.endswith("This workflow takes no parameters.")


def test_a_bare_word_is_not_a_parameter() -> None:
    assert parse("hello")[1] == [
        (
            "hello",
            "unexpected argument 'hello': workflow parameters are flags, such as --name VALUE.",
        )
    ]


def test_flags_describe_types_requiredness_and_json_defaults() -> None:
    flags = {f.field: f for f in flags_for(Params)}
    assert (flags["cv_text"].required, flags["cv_text"].help) == (True, "The CV to read.")
    assert (flags["cv_text"].kind, flags["cv_text"].type_label) == ("value", "str")
    assert (flags["verbose"].kind, flags["verbose"].default) == ("bool", True)
    assert flags["verbose"].usage == "--verbose/--no-verbose"
    assert (flags["tags"].kind, flags["tags"].type_label, flags["tags"].default) == (
        "list",
        "list[str]",
        [],
    )
    assert flags["scores"].default == [1, 2]
    assert flags["extra"].default == {}
    assert (flags["mode"].choices, flags["mode"].default) == (("fast", "slow"), "fast")
    assert (flags["level"].choices, flags["level"].default) == (("1", "2"), 1)
    assert (flags["address"].kind, flags["address"].usage) == ("json", "--address JSON")
    assert flags["count"].type_label == "int"
    assert flags["job_title"].key == "jobTitle"


@pytest.mark.parametrize(
    ("path", "flag"),
    [("cv_text", "--cv-text"), ("address.city", "--address (city)"), ("jobTitle", "--job-title")],
)
def test_flag_name_turns_a_field_path_into_the_flag(path: str, flag: str) -> None:
    assert flag_name(Params, path) == flag
