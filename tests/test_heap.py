"""The long-running parts freeze their start-up heap; later garbage is still collected."""

from __future__ import annotations

import gc
import weakref

from raw._heap import freeze_startup_heap


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def _cycle() -> weakref.ref[_Node]:
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def test_freeze_keeps_what_lives_and_collects_later_garbage() -> None:
    alive = _Node()
    before_freeze = _cycle()  # garbage already: collected by the freeze's own collection
    try:
        frozen = freeze_startup_heap()
        assert before_freeze() is None
        assert frozen > 0  # (another thread may freeze more meanwhile: raw run in-process)
        assert any(obj is alive for obj in gc.get_objects()) is False  # out of the walks
        after_freeze = _cycle()
        assert after_freeze() is not None
        gc.collect()
        assert after_freeze() is None  # garbage made after the freeze is collected
    finally:
        gc.unfreeze()
    assert any(obj is alive for obj in gc.get_objects())  # back in the generations
