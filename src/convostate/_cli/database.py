"""``db upgrade``, ``db check``, ``run-due``, ``deliver`` and ``retention``: what a deploy script and cron
run against a helpdesk's database. ``db check`` only reads, so a deploy can gate on it before any app
server starts."""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from convostate import Delivery, Helpdesk, OutgoingEmail, SchemaMismatch, SmtpMailer, Sweep
from convostate._cli.output import CommandFailed, emit

SMTP_URL_VARIABLE = "CONVOSTATE_SMTP_URL"
"""Where ``deliver`` finds the SMTP URL when ``--smtp`` is not given: a password in the environment does
not show in ``ps`` or in the crontab."""


def register(commands: Any, parent: argparse.ArgumentParser) -> None:
    db = commands.add_parser("db", help="upgrade or check a database's convostate schema")
    actions = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    for name, run, text in (
        ("upgrade", upgrade, "bring the database up to this release's schema"),
        ("check", check, "exit 0 if the schema is this release's, 1 (saying why) if not; changes nothing"),
    ):
        action = actions.add_parser(name, parents=[parent], help=text)
        _url(action)
        action.add_argument(  # convostate.sql.DEFAULT_PREFIX, written out: --help needs no SQLAlchemy
            "--prefix", default="convostate_", help="the tables' prefix (default: %(default)s)"
        )
        action.set_defaults(run=run)
    run_due = commands.add_parser(
        "run-due", parents=[parent], help="run the time rules that are due (call it from cron)"
    )
    _url(run_due)
    run_due.add_argument("--batch", type=int, default=100, help="timers claimed at a time (default: 100)")
    _accounts(run_due)
    run_due.set_defaults(run=run_due_timers)
    retention = commands.add_parser(
        "retention",
        parents=[parent],
        help="erase the text the account's retention policy no longer keeps (call it from cron)",
    )
    _url(retention)
    retention.add_argument(
        "--batch", type=int, default=100, help="conversations read per commit (default: 100)"
    )
    retention.set_defaults(run=apply_retention)
    deliver = commands.add_parser(
        "deliver", parents=[parent], help="send the outbox's due emails (call it from cron)"
    )
    _url(deliver)
    deliver.add_argument(
        "--smtp",
        metavar="SMTP_URL",
        help="smtp://[user:password@]host[:port][?starttls=true] or smtps://... "
        f"(default: ${SMTP_URL_VARIABLE})",
    )
    deliver.add_argument("--limit", type=int, default=100, help="emails to try (default: 100)")
    _accounts(deliver)
    deliver.set_defaults(run=deliver_emails)


def _url(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("url", help="a SQLAlchemy database URL, e.g. sqlite:///helpdesk.db")


def _accounts(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--account", default="default", help="the account to serve (default: %(default)s)")
    which.add_argument(
        "--all-accounts",
        action="store_true",
        help="serve every account with work, in fair passes (each account a share per pass)",
    )


def upgrade(arguments: argparse.Namespace) -> int:
    from convostate._adapters.sql import schema  # noqa: PLC0415 (the sql extra, when used)

    with _translated("upgrading the schema"):
        schema.upgrade_database(arguments.url, prefix=arguments.prefix)
    revision = schema.revisions()[0]
    emit(arguments, {"revision": revision}, f"the convostate schema is at revision {revision}")
    return 0


def check(arguments: argparse.Namespace) -> int:
    import sqlalchemy as sa  # noqa: PLC0415 (the sql extra, when used)

    from convostate._adapters.sql import schema  # noqa: PLC0415
    from convostate._adapters.sql.tables import Tables  # noqa: PLC0415

    url = sa.make_url(arguments.url)
    refuse_missing_sqlite_file(arguments.url)
    engine = sa.create_engine(url)
    revision = schema.revisions()[0]
    try:
        with _translated("reading the schema"), engine.connect() as connection:
            schema.check(connection, Tables(arguments.prefix), url.render_as_string(hide_password=True))
    except SchemaMismatch as mismatch:
        if arguments.json:
            emit(arguments, {"current": False, "revision": revision, "problem": str(mismatch)}, "")
        raise
    finally:
        engine.dispose()
    emit(
        arguments,
        {"current": True, "revision": revision},
        f"the convostate schema is current (revision {revision})",
    )
    return 0


def refuse_missing_sqlite_file(text: str) -> None:
    """Connecting would create the file: a check that leaves an empty database behind misleads, and a cron
    job with a typo in its path would sweep a new, empty helpdesk every minute and report success."""
    import sqlalchemy as sa  # noqa: PLC0415 (the sql extra, when used)

    url = sa.make_url(text)
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return
    if database.startswith("file:") or url.query.get("mode") == "memory":
        return
    if not Path(database).exists():
        raise CommandFailed(f"there is no SQLite database at {database}")


@contextlib.contextmanager
def _translated(where: str) -> Iterator[None]:
    """SQLAlchemy's and Alembic's errors as convostate's, so a refused connection or a database stamped
    by a later release is one line, not a traceback."""
    from alembic.util import CommandError  # noqa: PLC0415
    from sqlalchemy import exc  # noqa: PLC0415

    from convostate._adapters.sql import dialects  # noqa: PLC0415

    try:
        yield
    except CommandError as error:
        raise CommandFailed(f"{where} failed: {error}") from error
    except exc.SQLAlchemyError as error:
        translated = dialects.translate(error, where)
        if translated is None:
            raise
        raise translated from error


def run_due_timers(arguments: argparse.Namespace) -> int:
    if arguments.batch < 1:
        raise CommandFailed("--batch must be at least 1", code=2)
    refuse_missing_sqlite_file(arguments.url)
    with Helpdesk.open(arguments.url, account=arguments.account) as helpdesk:
        sweeps = _swept(helpdesk, arguments)
    acted = sum(len(sweep.acted) for sweep in sweeps.values())
    stuck = {
        (account, s.timer.conversation_id.value, s.timer.rule_id.value): s.reason
        for account, sweep in sweeps.items()
        for s in sweep.stuck
    }
    report = [
        {"account": account, "conversation": conversation, "reason": reason}
        for (account, conversation, _), reason in stuck.items()
    ]
    lines = [f"ran {acted} due timer{'s' * (acted != 1)}, {len(report)} stuck"]
    lines += [f"  stuck: {entry['account']}: {entry['conversation']}: {entry['reason']}" for entry in report]
    data: dict[str, object] = {"acted": acted, "stuck": report}
    if arguments.all_accounts:
        data["accounts"] = {account: len(sweep.acted) for account, sweep in sorted(sweeps.items())}
    emit(arguments, data, "\n".join(lines))
    return 1 if report else 0


def _swept(helpdesk: Helpdesk, arguments: argparse.Namespace) -> dict[str, Sweep]:
    """One account's sweep, or passes over every account until a pass fires nothing (a stuck timer is
    due again after each pass, so "nothing listed" would never come)."""
    if not arguments.all_accounts:
        return {helpdesk.account: helpdesk.run_due(batch=arguments.batch)}
    sweeps: dict[str, Sweep] = {}
    while True:
        passed = helpdesk.run_due_everywhere(batch=arguments.batch)
        for account, sweep in passed.items():
            before = sweeps.get(account, Sweep((), ()))
            sweeps[account] = Sweep(before.acted + sweep.acted, before.stuck + sweep.stuck)
        if not any(sweep.acted for sweep in passed.values()):
            return sweeps


def apply_retention(arguments: argparse.Namespace) -> int:
    """One whole walk of the account, a batch (one unit of work) at a time."""
    if arguments.batch < 1:
        raise CommandFailed("--batch must be at least 1", code=2)
    refuse_missing_sqlite_file(arguments.url)
    read = messages = emails = 0
    with Helpdesk.open(arguments.url) as helpdesk:
        now = helpdesk.clock.now()  # one instant for the whole walk
        after = None
        while True:
            sweep = helpdesk.apply_retention(now, batch=arguments.batch, after=after)
            read, messages, emails = (
                read + sweep.conversations,
                messages + sweep.messages,
                emails + sweep.emails,
            )
            after = sweep.next_after
            if after is None:
                break
    text = f"read {read} conversations: erased {messages} message bodies and {emails} emails"
    emit(arguments, {"conversations": read, "messages": messages, "emails": emails}, text)
    return 0


def deliver_emails(arguments: argparse.Namespace) -> int:
    smtp = arguments.smtp or os.environ.get(SMTP_URL_VARIABLE)
    if not smtp:
        raise CommandFailed(f"deliver needs an SMTP server: give --smtp URL or set {SMTP_URL_VARIABLE}", 2)
    if arguments.limit < 1:
        raise CommandFailed("--limit must be at least 1", code=2)
    mailer = SmtpMailer.from_url(smtp)
    refuse_missing_sqlite_file(arguments.url)
    with Helpdesk.open(arguments.url, mailer=mailer, account=arguments.account) as helpdesk:
        if arguments.all_accounts:
            delivery = _delivered_everywhere(helpdesk, arguments.limit)
        else:
            delivery = helpdesk.deliver_pending(arguments.limit)
    failed = [
        {
            "email": email.id,
            "conversation": email.conversation_id.value,
            "requested_by": email.requested_by.value,
            "error": email.last_error,
            "given_up": email in delivery.given_up,
        }
        for email in delivery.failed
    ]
    lines = [f"sent {len(delivery.sent)}, failed {len(failed)} ({len(delivery.given_up)} given up)"]
    lines += [f"  failed: {entry['email']}: {entry['error']}" for entry in failed]
    emit(arguments, {"sent": [email.id for email in delivery.sent], "failed": failed}, "\n".join(lines))
    return 1 if failed else 0


def _delivered_everywhere(helpdesk: Helpdesk, limit: int) -> Delivery:
    """Passes over every account until none has an email to send now (a failed send waits for its retry,
    so the passes end)."""
    sent: tuple[OutgoingEmail, ...] = ()
    failed: tuple[OutgoingEmail, ...] = ()
    while passed := helpdesk.deliver_pending_everywhere(limit):
        for delivery in passed.values():
            sent += delivery.sent
            failed += delivery.failed
    return Delivery(sent, failed)
