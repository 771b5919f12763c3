"""The strategies ``convostate.testing.strategies`` ships for hosts draw what they promise, and what they
draw goes through the facade: any body a webhook can carry is kept and exported as it came, any provider
id is delivered once, any drawn instant is aware."""

from __future__ import annotations

import csv
import io

import pendulum
from hypothesis import given, settings
from hypothesis import strategies as st

from convostate import AccountSettings, Helpdesk, Role
from convostate._service.export_email import _inert as kept_as_text
from convostate.testing import CollectingMailer
from convostate.testing.strategies import account_settings, bodies, external_ids, instants


@given(instants())
def test_instants_are_aware_and_in_utc(instant: pendulum.DateTime) -> None:
    assert instant.tzinfo is pendulum.UTC


@given(account_settings())
def test_account_settings_are_valid_settings(drawn: AccountSettings) -> None:
    assert (
        AccountSettings(
            timezone=drawn.timezone, reopen_window=drawn.reopen_window, read_model=drawn.read_model
        )
        == drawn
    )


@settings(max_examples=50)
@given(st.lists(bodies, min_size=1, max_size=3), external_ids)
def test_any_body_is_kept_and_exported_as_it_came_and_a_redelivery_changes_nothing(
    texts: list[str], external_id: str
) -> None:
    mailer = CollectingMailer()
    desk = Helpdesk(mailer=mailer)
    admin = desk.add_user("Ana", "ana@example.com", role=Role.ADMIN).id
    support = desk.add_inbox("Support", members=[admin], by=admin).id
    maria = desk.add_contact(name="Maria").id
    first = desk.receive(maria, support, texts[0], external_id=external_id)
    for text in texts[1:]:
        desk.receive(maria, support, text)

    again = desk.receive(maria, support, texts[0], external_id=external_id)
    desk.export(first.conversation.id, by=admin)

    assert not again.changed
    [sent] = mailer.sent
    [attached] = list(sent.iter_attachments())
    content = attached.get_content()
    text = content.decode("utf-8-sig") if isinstance(content, bytes) else content
    rows = list(csv.reader(io.StringIO(text)))
    # Exactly as written, but for a leading apostrophe on a cell that starts like a formula (docs/export.md).
    assert [row[3] for row in rows[1:]] == [kept_as_text(text) for text in texts]
