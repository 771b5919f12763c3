"""The facade's state machine (tests/test_helpdesk_state_machine.py) once more, on the SQL store (SQLite in
memory): every tab, page, badge and refusal agrees with the reference model through SQL too. Each example is
a new account in one database, so an example costs no schema. 25 examples at most (some 20 s): every step
reads every tab of every user page by page through SQL, and the store's own promises are held by the
conformance suites; the memory store runs the machine at the profile's full depth."""

from __future__ import annotations

import atexit
import itertools
from typing import Final

import hypothesis
import pytest

from convostate import Store
from convostate.sql import SqlStore
from tests.sql_stores import dump
from tests.test_helpdesk_state_machine import HelpdeskMachine

pytest.importorskip("sqlalchemy")

_DATABASE: Final = SqlStore.open("sqlite://")
atexit.register(_DATABASE.close)
_ACCOUNTS: Final = itertools.count()


class SqlHelpdeskMachine(HelpdeskMachine):
    def make_store(self) -> Store:
        return SqlStore(_DATABASE.engine, account=f"example-{next(_ACCOUNTS)}")

    def snapshot(self) -> object:
        assert isinstance(self.store, SqlStore)
        return dump(self.store)


TestSqlHelpdesk = SqlHelpdeskMachine.TestCase
TestSqlHelpdesk.settings = hypothesis.settings(
    TestSqlHelpdesk.settings,
    max_examples=min(TestSqlHelpdesk.settings.max_examples, 25),
)
