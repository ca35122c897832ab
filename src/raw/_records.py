"""A dataclass's ``==``, ``repr`` and (frozen) hash, for plain classes on the run path.

``@dataclass`` compiles ``__init__``, ``__repr__`` and ``__eq__`` (and, frozen, the
assignment guards and ``__hash__``) from source when its module is imported: ~2-5 M
instructions a class on every ``raw run`` (benchmarks/README.md, issue 20). A class
on the run path writes its ``__init__`` and lists its fields instead::

    class LoadedWorkflow(FrozenRecord):
        _fields = ("workflow_id", "path", "cls")

        def __init__(self, workflow_id: str, path: Path, cls: type) -> None:
            self._set(workflow_id=workflow_id, path=path, cls=cls)

Equality, ``repr``, hashing, copying and pickling, and the
:class:`dataclasses.FrozenInstanceError` on assignment are the dataclass's; instead of
``dataclasses.replace`` a frozen record has ``record._replace(name=value)``, and
``dataclasses.fields`` is not offered.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from typing import Any, ClassVar, Self, TypeVar

__all__ = ["FrozenRecord", "Record"]

_R = TypeVar("_R", bound="FrozenRecord")


class Record:
    """``==`` and ``repr`` over ``_fields``, as ``@dataclass`` gives them; unhashable."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Record)
        return self._values() == other._values()

    __hash__ = None  # type: ignore[assignment]  # mutable: as a dataclass with eq

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__qualname__}({shown})"


class FrozenRecord(Record):
    """A :class:`Record` that cannot be changed once built, and so is hashable."""

    __slots__ = ()

    def _set(self, **values: Any) -> None:
        """Set the fields (``__init__`` only)."""
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __hash__(self) -> int:  # type: ignore[override]  # Record's is None: unhashable
        return hash(self._values())

    def __reduce__(self) -> tuple[Any, ...]:
        """Copied and pickled field by field: the default would assign, which is refused."""
        return (_rebuilt, (type(self), dict(zip(self._fields, self._values(), strict=True))))

    def _replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` (``dataclasses.replace`` for a record)."""
        unknown = set(changes) - set(self._fields)
        if unknown:
            raise TypeError(f"{type(self).__qualname__} has no field {sorted(unknown)[0]!r}")
        values = dict(zip(self._fields, self._values(), strict=True))
        return _rebuilt(type(self), {**values, **changes})


def _rebuilt(cls: type[_R], values: dict[str, Any]) -> _R:
    """A frozen record of ``cls`` holding ``values`` (its ``__init__`` is not called again)."""
    record = cls.__new__(cls)
    record._set(**values)
    return record
