"""The memory store keeps every promise of the Store protocol: it runs the shipped conformance suites, and,
since it can show everything it holds (``dump()``), proves that a refused change set changes none of it."""

from __future__ import annotations

import pytest

from convostate import MemoryStore, Store
from convostate.testing.conformance import REFUSALS, StoreConformance, refused_change_set


class TestMemoryStore(StoreConformance):
    def make_store(self) -> Store:
        return MemoryStore()


def test_the_memory_store_satisfies_the_store_protocol() -> None:
    store: Store = MemoryStore()  # mypy checks this assignment against the protocol
    assert store.settings() is not None


@pytest.mark.parametrize("kind", REFUSALS)
def test_a_refused_change_set_leaves_the_whole_dump_unchanged(kind: str) -> None:
    store = MemoryStore()
    change_set, error = refused_change_set(store, kind)
    before = store.dump()
    with pytest.raises(error):
        store.commit(change_set)
    assert store.dump() == before


def test_the_refusals_start_from_a_store_that_holds_something_of_every_kind() -> None:
    store = MemoryStore()
    refused_change_set(store, REFUSALS[0])
    held = store.dump()
    empty = sorted(name for name, value in held.items() if not value and name != "settings")
    assert empty == [], f"the busy account leaves {empty} empty, so no refusal could change them"
