"""raw._records gives the run path's plain classes a dataclass's equality, repr and hash."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from pathlib import Path

import pytest

from raw.local_state import KIT_STATE, LocalState
from raw.workflow.arguments import Flag
from raw.workflow.loader import LoadedWorkflow
from raw.workflow.steps import CachePolicy, RetryPolicy, StepSpec


@dataclasses.dataclass(frozen=True)
class _AsDataclass:
    pattern: str
    holds: str
    written_by: str
    folder: bool = True


def test_a_frozen_record_compares_hashes_and_shows_as_its_dataclass_did() -> None:
    state = LocalState(".raw/x", "things", "raw up", folder=False)
    same = LocalState(pattern=".raw/x", holds="things", written_by="raw up", folder=False)
    other = LocalState(".raw/x", "things", "raw up")
    assert state == same and hash(state) == hash(same) and state != other
    assert {state, same, other} == {state, other}
    shown = repr(_AsDataclass(".raw/x", "things", "raw up", folder=False))
    assert repr(state) == shown.replace("_AsDataclass", "LocalState")
    assert state != _AsDataclass(".raw/x", "things", "raw up", folder=False)
    assert len(set(KIT_STATE)) == len(KIT_STATE)


@pytest.mark.parametrize(
    "record",
    [
        LocalState(".raw/x", "things", "raw up"),
        CachePolicy(ttl_seconds=5),
        LoadedWorkflow("hi", Path("run.py"), object),
        Flag("a", "a", "--a", "str", "str", True, None),
        RetryPolicy(max_attempts=2),
        StepSpec(len, "count"),
    ],
)
def test_a_frozen_record_cannot_be_changed(record: object) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.anything = 1  # type: ignore[attr-defined]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del record.anything  # type: ignore[attr-defined]


def test_a_mutable_record_compares_by_value_and_is_unhashable() -> None:
    from raw.config.original import OriginalConfig

    first, second = OriginalConfig("0.2.0"), OriginalConfig("0.2.0")
    assert first == second and first.set_aside is not second.set_aside
    second.set_aside["x"] = 1
    assert first != second
    with pytest.raises(TypeError):
        hash(first)
    assert repr(first) == (
        "OriginalConfig(version='0.2.0', created_at=None, set_aside={}, defaults_kept=[], "
        "mapped={})"
    )


def _retry_on_timeouts() -> RetryPolicy:
    return RetryPolicy(2, "fixed", retry_on=(TimeoutError,))


def test_a_frozen_record_copies_pickles_and_replaces_as_its_dataclass_did() -> None:
    policy = _retry_on_timeouts()
    assert repr(policy) == (
        "RetryPolicy(max_attempts=2, backoff='fixed', base_delay_seconds=1.0, "
        "max_delay_seconds=60.0, retry_on=(<class 'TimeoutError'>,))"
    )
    assert policy == _retry_on_timeouts() and hash(policy) == hash(_retry_on_timeouts())
    for twin in (copy.copy(policy), copy.deepcopy(policy), pickle.loads(pickle.dumps(policy))):
        assert twin == policy and twin is not policy
    slower = policy._replace(max_delay_seconds=5.0)
    assert (slower.max_delay_seconds, slower.max_attempts, policy.max_delay_seconds) == (
        5.0,
        2,
        60.0,
    )
    with pytest.raises(TypeError, match="no field 'bogus'"):
        policy._replace(bogus=1)
    spec = StepSpec(len)
    named = spec._replace(name="count")
    assert (named.name, named.func, spec.name) == ("count", len, None) and named.is_step
