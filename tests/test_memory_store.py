"""The memory store keeps every promise of the Store protocol: it runs the shipped conformance suite."""

from __future__ import annotations

from convostate import MemoryStore, Store
from convostate.testing import StoreConformance


class TestMemoryStore(StoreConformance):
    def make_store(self) -> Store:
        return MemoryStore()


def test_the_memory_store_satisfies_the_store_protocol() -> None:
    store: Store = MemoryStore()  # mypy checks this assignment against the protocol
    assert store.settings() is not None
