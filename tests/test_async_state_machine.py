"""The facade's state machine (tests/test_helpdesk_state_machine.py) through the asyncio facade: every
action, tab page, badge and refusal agrees with the reference model when ``AsyncHelpdesk`` runs it, on the
memory store (worker threads) and on SQLite through aiosqlite (greenlets on the loop). The machine's steps
are sync; each awaits the facade on an event loop of its own (tests/async_runner.py).

Far fewer examples than the sync machines (the memory store's runs at the profile's depth): every call hops
to the loop's thread and back, and on aiosqlite every query to aiosqlite's thread and back, so an aiosqlite
example of 25 steps costs some 5 s (every step reads every tab of every user page by page). The pipeline
and the store are the ones the sync machines explore in depth; what this adds is the asyncio plumbing,
which a few examples exercise through every method the machine calls. CI's budget for all the async tests
is about a minute on one Python (HYPOTHESIS_PROFILE=ci: 15 and 3 examples).
"""

from __future__ import annotations

import atexit
import itertools
import tempfile
from pathlib import Path
from typing import Final, cast

import hypothesis
import pytest

pytest.importorskip("aiosqlite", reason="the asyncio SQL store needs the [async] extra")

from convostate import Helpdesk, Store
from convostate.aio import AsyncHelpdesk, open_sql_store
from convostate.sql import SqlStore
from convostate.testing import ManualClock, SequentialIds
from tests.async_runner import LoopThread, SyncHelpdesk, SyncStore
from tests.sql_stores import dump
from tests.test_helpdesk_state_machine import HelpdeskMachine

_RUNNER: Final = LoopThread()
_DIRECTORY: Final = tempfile.TemporaryDirectory()
_DATABASE: Final = _RUNNER.run(open_sql_store(f"sqlite+aiosqlite:///{Path(_DIRECTORY.name) / 'helpdesk.db'}"))
_ACCOUNTS: Final = itertools.count()


def _close() -> None:
    _RUNNER.in_greenlet(_DATABASE.close)
    _RUNNER.stop()
    _DIRECTORY.cleanup()


atexit.register(_close)


class AsyncMemoryHelpdeskMachine(HelpdeskMachine):
    def make_helpdesk(self, store: Store, clock: ManualClock) -> Helpdesk:
        desk = AsyncHelpdesk(store=store, clock=clock, ids=SequentialIds())
        return cast(Helpdesk, SyncHelpdesk(desk, _RUNNER))


class AiosqliteHelpdeskMachine(HelpdeskMachine):
    """Each example is a new account in one database file, so an example costs no schema."""

    def make_store(self) -> Store:
        inner = _RUNNER.in_greenlet(SqlStore, _DATABASE.engine, account=f"example-{next(_ACCOUNTS)}")
        return cast(Store, SyncStore(inner, _RUNNER))

    def make_helpdesk(self, store: Store, clock: ManualClock) -> Helpdesk:
        assert isinstance(store, SyncStore)
        desk = AsyncHelpdesk(store=store.inner, clock=clock, ids=SequentialIds())
        return cast(Helpdesk, SyncHelpdesk(desk, _RUNNER))

    def snapshot(self) -> object:
        assert isinstance(self.store, SyncStore)
        return _RUNNER.in_greenlet(dump, self.store.inner)


TestAsyncMemoryHelpdesk = AsyncMemoryHelpdeskMachine.TestCase
TestAsyncMemoryHelpdesk.settings = hypothesis.settings(
    TestAsyncMemoryHelpdesk.settings, max_examples=min(TestAsyncMemoryHelpdesk.settings.max_examples, 15)
)
TestAiosqliteHelpdesk = AiosqliteHelpdeskMachine.TestCase
TestAiosqliteHelpdesk.settings = hypothesis.settings(
    TestAiosqliteHelpdesk.settings,
    max_examples=min(TestAiosqliteHelpdesk.settings.max_examples, 3),
    stateful_step_count=min(TestAiosqliteHelpdesk.settings.stateful_step_count, 25),
)
