"""Helpdesk.batch(): many actions decided now and committed as one unit of work.

What the batch adds to the facade's behaviour (which tests/test_batch_equivalence.py proves it keeps): it
commits whole or not at all, on leaving a ``with`` block or at ``commit()``; nothing of it is visible
before; an error inside the block writes nothing; a commit is refused whole when another writer got there
first; bad input is refused at the call with nothing decided; one SQL transaction per commit.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pendulum
import pytest

from convostate import (
    Batch,
    Committed,
    ConcurrencyConflict,
    ContactId,
    ConversationId,
    Helpdesk,
    InboxId,
    InvalidInput,
    MemoryStore,
    PermissionDenied,
    Role,
    Status,
    Store,
    UnknownConversation,
    UserId,
)
from convostate.testing import ManualClock, SequentialIds

START = pendulum.datetime(2026, 3, 2, 9, tz="UTC")


class Desk:
    def __init__(self, store: Store) -> None:
        self.clock = ManualClock(START.add(days=30))
        self.helpdesk = Helpdesk(store=store, clock=self.clock, ids=SequentialIds())
        desk = self.helpdesk
        self.admin = desk.add_user("Alex Morgan", "alex@example.com", role=Role.ADMIN).id
        self.agent = desk.add_user("Ana Lima", "ana@example.com", by=self.admin).id
        self.outsider = desk.add_user("Omar Diaz", "omar@example.com", by=self.admin).id
        self.inbox = desk.add_inbox("Support", members=[self.admin, self.agent], by=self.admin).id
        self.contacts = [desk.add_contact(phone=f"+1555555{n:04d}").id for n in range(1, 9)]


@pytest.fixture(params=["memory", "sqlite"])
def desk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Desk]:
    if request.param == "memory":
        yield Desk(MemoryStore())
        return
    from convostate.sql import SqlStore  # noqa: PLC0415 (the sql extra)

    store = SqlStore.open(f"sqlite:///{tmp_path / 'batch.db'}")
    yield Desk(store)
    store.close()


def _import_one(desk: Desk, batch: Batch, contact: ContactId, at: pendulum.DateTime) -> ConversationId:
    """A contact's message, an assignment, a reply and a close: a conversation's history, imported."""
    started = batch.receive(contact, desk.inbox, "Where is my order?", at=at, external_id=f"SM-{contact}")
    conversation = started.conversation.id
    batch.assign(conversation, desk.agent, by=desk.admin, at=at.add(minutes=2))
    batch.reply(conversation, "It ships today.", by=desk.agent, at=at.add(minutes=5))
    batch.close(conversation, by=desk.agent, at=at.add(minutes=6))
    return conversation


def test_a_batch_commits_on_leaving_the_block_with_each_action_at_its_instant(desk: Desk) -> None:
    with desk.helpdesk.batch() as batch:
        conversation = _import_one(desk, batch, desk.contacts[0], START)
        assert batch.pending == 4
        with pytest.raises(UnknownConversation):  # nothing is in the store before the commit
            desk.helpdesk.conversation(conversation)

    state = desk.helpdesk.conversation(conversation)
    assert state.status is Status.CLOSED
    assert state.closed_at == START.add(minutes=6)
    assert [entry.event.at for entry in desk.helpdesk.history(conversation)] == [
        START,
        START,
        START.add(minutes=2),
        START.add(minutes=5),  # the reply marks it read
        START.add(minutes=5),
        START.add(minutes=6),
    ]
    assert desk.helpdesk.badges(desk.agent).closed.total == 1


def test_commit_says_what_it_wrote_and_starts_afresh(desk: Desk) -> None:
    batch = desk.helpdesk.batch()
    for n, contact in enumerate(desk.contacts[:3]):
        _import_one(desk, batch, contact, START.add(hours=n))
    assert batch.commit() == Committed(actions=12, conversations=3, events=18)
    assert batch.pending == 0
    assert batch.commit() == Committed(actions=0, conversations=0, events=0)


def test_an_error_inside_the_block_writes_nothing(desk: Desk) -> None:
    before = desk.helpdesk.badges(desk.admin)

    def interrupted_import() -> None:
        with desk.helpdesk.batch() as batch:
            _import_one(desk, batch, desk.contacts[0], START)
            raise RuntimeError("the import's source went away")

    with pytest.raises(RuntimeError):
        interrupted_import()
    assert desk.helpdesk.badges(desk.admin) == before
    assert desk.helpdesk.store.conversation_between(desk.contacts[0], desk.inbox) is None


def test_a_refused_action_raises_the_facades_error_and_the_batch_goes_on(desk: Desk) -> None:
    with desk.helpdesk.batch() as batch:
        conversation = batch.receive(desk.contacts[0], desk.inbox, "Hi", at=START).conversation.id
        with pytest.raises(PermissionDenied):
            batch.close(conversation, by=desk.outsider, at=START.add(minutes=1))
        with pytest.raises(InvalidInput, match="naive"):
            batch.close(conversation, by=desk.agent, at=datetime(2026, 3, 2, 10))  # noqa: DTZ001
        with pytest.raises(InvalidInput):
            batch.close("conversation-1", by=desk.agent, at=START)  # type: ignore[arg-type]
        with pytest.raises(UnknownConversation):
            batch.close(ConversationId("conversation-99"), by=desk.agent, at=START)
        assert batch.pending == 1
    assert len(desk.helpdesk.history(conversation)) == 2  # started, received: no close


def test_a_redelivered_message_changes_nothing_within_a_batch_and_across_batches(desk: Desk) -> None:
    with desk.helpdesk.batch() as batch:
        first = batch.receive(desk.contacts[0], desk.inbox, "Hi", at=START, external_id="SM1")
        again = batch.receive(desk.contacts[0], desk.inbox, "Hi", at=START, external_id="SM1")
        assert again.events == ()
        assert again.conversation.id == first.conversation.id
    with desk.helpdesk.batch() as batch:  # an import run again from its start
        again = batch.receive(desk.contacts[0], desk.inbox, "Hi", at=START, external_id="SM1")
        assert again.events == ()
        assert again.conversation.id == first.conversation.id
        assert batch.pending == 0
    assert len(desk.helpdesk.history(first.conversation.id)) == 2


def test_a_commit_after_another_writer_changed_a_conversation_is_refused_whole(desk: Desk) -> None:
    helpdesk = desk.helpdesk
    conversation = helpdesk.receive(desk.contacts[0], desk.inbox, "Hi").conversation.id
    batch = helpdesk.batch()
    batch.assign(conversation, desk.agent, by=desk.admin, at=START.add(days=30))
    _import_one(desk, batch, desk.contacts[1], START)
    helpdesk.star(conversation, by=desk.admin)  # lands between the batch's read and its commit
    history = helpdesk.history(conversation)

    with pytest.raises(ConcurrencyConflict):
        batch.commit()

    assert helpdesk.history(conversation) == history
    assert helpdesk.conversation(conversation).assignees == frozenset()
    assert helpdesk.store.conversation_between(desk.contacts[1], desk.inbox) is None
    assert batch.pending == 0  # dropped: the host runs those actions again


def test_a_commit_after_the_directory_changed_is_refused_whole(desk: Desk) -> None:
    batch = desk.helpdesk.batch()
    _import_one(desk, batch, desk.contacts[0], START)
    desk.helpdesk.remove_member(desk.inbox, desk.agent, by=desk.admin)
    with pytest.raises(ConcurrencyConflict):
        batch.commit()
    assert desk.helpdesk.store.conversation_between(desk.contacts[0], desk.inbox) is None


def test_two_threads_importing_the_same_conversation_one_commits_the_other_is_refused(desk: Desk) -> None:
    conversation = desk.helpdesk.receive(desk.contacts[0], desk.inbox, "Hi").conversation.id
    batches = [desk.helpdesk.batch() for _ in range(2)]
    for n, batch in enumerate(batches):
        batch.reply(conversation, f"Reply {n}", by=desk.agent, at=START.add(days=31))
    ready = threading.Barrier(2)
    ended: list[str] = []

    def commit(batch: Batch) -> None:
        ready.wait()
        try:
            batch.commit()
            ended.append("committed")
        except ConcurrencyConflict:
            ended.append("refused")

    threads = [threading.Thread(target=commit, args=(batch,)) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=15)
    assert sorted(ended) == ["committed", "refused"]
    assert len(desk.helpdesk.history(conversation)) == 4  # started, received, one reply and its read


def test_threads_importing_their_own_contacts_all_commit(desk: Desk) -> None:
    ready = threading.Barrier(4)
    errors: list[BaseException] = []

    def run(contacts: list[ContactId]) -> None:
        try:
            ready.wait()
            with desk.helpdesk.batch() as batch:
                for n, contact in enumerate(contacts):
                    _import_one(desk, batch, contact, START.add(hours=n))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(desk.contacts[n::4],)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=15)
    assert not errors
    assert desk.helpdesk.badges(desk.agent).closed.total == 8


def test_one_batch_shared_by_threads_keeps_every_action(desk: Desk) -> None:
    batch = desk.helpdesk.batch()
    started = batch.receive(desk.contacts[0], desk.inbox, "Hi", at=START).conversation.id

    def star_and_read(user: UserId) -> None:
        for minute in range(20):
            batch.star(started, by=user, at=START.add(minutes=minute))
            batch.mark_read(started, by=user, at=START.add(minutes=minute))

    threads = [threading.Thread(target=star_and_read, args=(user,)) for user in (desk.admin, desk.agent)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=15)
    batch.commit()
    assert desk.helpdesk.badges(desk.admin).starred.total == 1
    assert desk.helpdesk.badges(desk.agent).starred.total == 1


def test_a_batch_on_sqlite_commits_in_one_transaction(tmp_path: Path) -> None:
    import sqlalchemy as sa  # noqa: PLC0415 (the sql extra)

    from convostate.sql import SqlStore  # noqa: PLC0415

    store = SqlStore.open(f"sqlite:///{tmp_path / 'one.db'}")
    desk = Desk(store)
    batch = desk.helpdesk.batch()
    for n, contact in enumerate(desk.contacts):
        _import_one(desk, batch, contact, START.add(hours=n))
    statements: list[str] = []
    sa.event.listen(store.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    transactions: list[str] = []
    sa.event.listen(store.engine, "commit", lambda *_: transactions.append("commit"))
    batch.commit()
    store.close()
    assert transactions == ["commit"]
    writes = [each for each in statements if not each.lstrip().upper().startswith("SELECT")]
    assert len(writes) < 8 * 12  # a conversation's rows are written once, not once per action


def test_an_async_batch_commits_on_leaving_and_never_blocks_the_loop(tmp_path: Path) -> None:
    import asyncio  # noqa: PLC0415

    from convostate.aio import AsyncHelpdesk  # noqa: PLC0415

    async def main() -> tuple[Status, int]:
        desk = AsyncHelpdesk(clock=ManualClock(START.add(days=30)), ids=SequentialIds())
        admin = (await desk.add_user("Alex Morgan", "alex@example.com", role=Role.ADMIN)).id
        inbox = (await desk.add_inbox("Support", members=[admin], by=admin)).id
        contact = (await desk.add_contact(phone="+15555550001")).id
        async with desk.batch() as batch:
            started = await batch.receive(contact, inbox, "Hi", at=START)
            await batch.close(started.conversation.id, by=admin, at=START.add(minutes=1))
        state = await desk.conversation(started.conversation.id)
        return state.status, len(await desk.history(state.id))

    assert asyncio.run(main()) == (Status.CLOSED, 3)


def test_inbox_ids_are_checked_at_the_call(desk: Desk) -> None:
    with desk.helpdesk.batch() as batch, pytest.raises(InvalidInput):
        batch.receive(desk.contacts[0], "inbox-1", "Hi", at=START)  # type: ignore[arg-type]
    with desk.helpdesk.batch() as batch, pytest.raises(Exception, match="no inbox"):
        batch.receive(desk.contacts[0], InboxId("inbox-9"), "Hi", at=START)


def test_an_async_batch_on_aiosqlite_commits_in_the_greenlet_and_knows_redeliveries(tmp_path: Path) -> None:
    import asyncio  # noqa: PLC0415

    pytest.importorskip("aiosqlite")
    from convostate.aio import AsyncHelpdesk  # noqa: PLC0415

    async def main() -> tuple[bool, Committed, int]:
        url = f"sqlite+aiosqlite:///{tmp_path / 'async.db'}"
        desk = await AsyncHelpdesk.open(url, clock=ManualClock(START.add(days=30)), ids=SequentialIds())
        async with desk:
            admin = (await desk.add_user("Alex Morgan", "alex@example.com", role=Role.ADMIN)).id
            inbox = (await desk.add_inbox("Support", members=[admin], by=admin)).id
            contacts = [(await desk.add_contact(phone=f"+155555500{n:02d}")).id for n in range(5)]
            async with desk.batch() as batch:
                for n, contact in enumerate(contacts):
                    at = START.add(minutes=n)
                    started = await batch.receive(contact, inbox, "Hi", at=at, external_id=f"SM{n}")
                    await batch.close(started.conversation.id, by=admin, at=at.add(minutes=1))
            again = desk.batch()
            redelivered = await again.receive(contacts[0], inbox, "Hi", at=START, external_id="SM0")
            return redelivered.changed, await again.commit(), (await desk.badges(admin)).closed.total

    assert asyncio.run(main()) == (False, Committed(actions=0, conversations=0, events=0), 5)
