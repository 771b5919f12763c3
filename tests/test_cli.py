"""The ``convostate`` command, called in-process through ``main(argv)`` (fast: no interpreter to start), and
once through ``python -m convostate`` to prove the entry point is wired.

Every error must be one ``convostate: error:`` line on stderr with a non-zero status: 2 for a usage error,
1 for a convostate error or a failed check, never a traceback.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pendulum
import pytest

import convostate
from convostate import CalendarDuration, EmailStatus, Helpdesk, Role, Tab
from convostate._cli.app import main
from convostate._cli.rules import to_toml
from convostate.core import status_machine
from convostate.privacy import RetentionPolicy
from convostate.rules import DEFAULT_RULES, rules_from_toml, rules_to_data, rules_to_json
from convostate.testing import ManualClock
from tests.smtp_server import SmtpServer, _free_port


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    status, out, err = run(capsys, *argv, "--json")
    assert (status, err) == (0, "")
    return json.loads(out)


def assert_one_error_line(err: str, *fragments: str) -> None:
    assert err.startswith("convostate: error: ")
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


# ---------------------------------------------------------------- usage


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys)
    assert status == 2
    assert "convostate: error:" in err


def test_an_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "frobnicate")
    assert (status, out) == (2, "")
    assert "convostate: error: argument COMMAND: invalid choice: 'frobnicate'" in err


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--help")
    assert status == 0
    for command in (
        *("demo", "diagram", "db", "run-due", "deliver", "retention"),
        *("simulate", "export-rules", "check-rules"),
    ):
        assert command in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--version") == (0, f"convostate {convostate.__version__}\n", "")


# ---------------------------------------------------------------- demo


def test_demo_tells_the_seed_story_then_carries_on_from_the_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = tmp_path / "demo.db"
    status, out, err = run(capsys, "demo", "--db", str(db))
    assert (status, err) == (0, "")
    assert f"A new helpdesk in {db}" in out
    assert "6. Maria writes 6 days later, within the week: back to Ana and Bo" in out
    assert "rule unassign-after-reopen-window unassigned Ana" in out

    again = run_json(capsys, "demo", "--db", str(db))
    assert again["continued"] is True
    assert [step["history"] for step in again["steps"]] == [14, 15]  # one message to an open conversation


def test_demo_json_has_every_step_with_badges(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    result = run_json(capsys, "demo", "--db", str(tmp_path / "demo.db"))
    assert result["continued"] is False
    steps = {step["step"][:2]: step for step in result["steps"]}
    assert steps["2."]["badges"]["Bo"]["assigned_to_you"] == {"total": 1, "unread": 1}
    assert steps["3."]["badges"]["Ana"]["assigned_to_you"] == {"total": 1, "unread": 0}
    assert steps["7."]["participants"] == ["nobody"]
    assert steps["7."]["badges"]["Ana"]["unassigned"] == {"total": 1, "unread": 1}


def test_demo_in_a_directory_that_does_not_exist_fails_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    status, _, err = run(capsys, "demo", "--db", str(tmp_path / "nowhere" / "demo.db"))
    assert status == 1
    assert_one_error_line(err, "unable to open database file")


# ---------------------------------------------------------------- diagram


def test_diagram_prints_the_status_machine_as_mermaid(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "diagram") == (0, status_machine().to_mermaid() + "\n", "")


def test_diagram_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_json(capsys, "diagram")
    assert result["states"] == ["open", "closed"]
    assert {(t["from"], t["to"], t["command"]) for t in result["transitions"]} == {
        ("open", "closed", "Close"),
        ("closed", "open", "Reopen"),
    }
    assert result["mermaid"] == status_machine().to_mermaid()


# ---------------------------------------------------------------- db upgrade, db check


def test_db_upgrade_then_check(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "desk.db")
    status, out, err = run(capsys, "db", "upgrade", url)
    assert (status, err) == (0, "")
    assert out.startswith("the convostate schema is at revision ")
    status, out, err = run(capsys, "db", "check", url)
    assert (status, err) == (0, "")
    assert out.startswith("the convostate schema is current")
    assert run_json(capsys, "db", "check", url)["current"] is True
    assert run_json(capsys, "db", "upgrade", url)["revision"]  # a second upgrade has nothing to do


def test_db_check_of_another_applications_database_says_what_to_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "other.db"
    with contextlib.closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    status, out, err = run(capsys, "db", "check", sqlite_url(path), "--json")
    assert status == 1
    assert json.loads(out)["current"] is False
    assert_one_error_line(err, "is another application's database", "upgrade")
    with contextlib.closing(sqlite3.connect(path)) as connection:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master")]
    assert tables == ["invoices"]  # the check changed nothing


def test_db_check_of_a_missing_file_creates_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "missing.db"
    status, _, err = run(capsys, "db", "check", sqlite_url(path))
    assert status == 1
    assert_one_error_line(err, f"there is no SQLite database at {path}")
    assert not path.exists()


@pytest.mark.parametrize("command", [["db", "check"], ["db", "upgrade"], ["run-due"]])
def test_a_bad_url_is_one_line(capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    status, _, err = run(capsys, *command, "not a url")
    assert status == 1
    assert_one_error_line(err, "not a database URL")


@pytest.mark.parametrize(
    "command", [["run-due"], ["retention"], ["deliver", "--smtp", "smtp://127.0.0.1:25"]]
)
def test_a_cron_command_on_a_missing_sqlite_file_creates_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: list[str]
) -> None:
    path = tmp_path / "typo.db"
    status, _, err = run(capsys, command[0], sqlite_url(path), *command[1:])
    assert status == 1
    assert_one_error_line(err, f"there is no SQLite database at {path}")
    assert not path.exists()


def test_a_database_driver_that_is_not_installed_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "db", "check", "postgresql+pg8000://app@127.0.0.1:1/helpdesk")
    assert status == 1
    assert_one_error_line(err, "the database driver pg8000 is not installed", "convostate[postgres]")


def test_an_unreachable_database_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = run(capsys, "db", "upgrade", sqlite_url(tmp_path / "no" / "such" / "dir.db"))
    assert status == 1
    assert_one_error_line(err, "unable to open database file")


def test_db_upgrade_of_a_database_from_a_later_release_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "desk.db"
    assert main(["db", "upgrade", sqlite_url(path)]) == 0
    with contextlib.closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("UPDATE convostate_alembic_version SET version_num = '9999'")
    capsys.readouterr()
    status, _, err = run(capsys, "db", "upgrade", sqlite_url(path))
    assert status == 1
    assert_one_error_line(err, "upgrading the schema failed", "9999")
    status, _, err = run(capsys, "db", "check", sqlite_url(path))
    assert status == 1
    assert_one_error_line(err, "newer than this release's")


def test_python_m_convostate_sql_upgrade_still_works(tmp_path: Path) -> None:
    from convostate._adapters.sql.cli import main as sql_main  # noqa: PLC0415

    url = sqlite_url(tmp_path / "desk.db")
    assert sql_main(["upgrade", url]) == 0
    assert main(["db", "check", url]) == 0


# ---------------------------------------------------------------- run-due


def test_run_due_fires_a_due_snooze(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "desk.db")
    past = pendulum.now("UTC").subtract(days=2)
    with Helpdesk.open(url, clock=ManualClock(past)) as helpdesk:
        ana = helpdesk.add_user("Ana", "ana@example.com", role=Role.ADMIN)
        inbox = helpdesk.add_inbox("Support", members=[ana.id], by=ana.id)
        maria = helpdesk.add_contact(name="Maria")
        conversation = helpdesk.receive(maria.id, inbox.id, "Hello").conversation.id
        helpdesk.snooze(conversation, past.add(days=1), by=ana.id)

    status, out, err = run(capsys, "run-due", url)
    assert (status, err) == (0, "")
    assert out == "ran 1 due timer, 0 stuck\n"
    assert run_json(capsys, "run-due", url) == {"acted": 0, "stuck": []}  # once only


def _snoozed_in(url: str, accounts: dict[str, int]) -> None:
    """In each account, that many conversations snoozed until a day ago."""
    past = pendulum.now("UTC").subtract(days=2)
    with Helpdesk.open(url, clock=ManualClock(past)) as service:
        for account, snoozed in accounts.items():
            helpdesk = service.for_account(account)
            ana = helpdesk.add_user("Ana", "ana@example.com", role=Role.ADMIN)
            inbox = helpdesk.add_inbox("Support", members=[ana.id], by=ana.id)
            for n in range(snoozed):
                contact = helpdesk.add_contact(phone=f"+1555555{n:04d}").id
                conversation = helpdesk.receive(contact, inbox.id, "Hello").conversation.id
                helpdesk.snooze(conversation, past.add(days=1), by=ana.id)


def test_run_due_serves_one_account_or_all(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "desk.db")
    _snoozed_in(url, {"acme": 3, "globex": 1, "initech": 2})
    assert run_json(capsys, "run-due", url, "--account", "globex") == {"acted": 1, "stuck": []}
    assert run_json(capsys, "run-due", url, "--all-accounts", "--batch", "1") == {
        "acted": 5,
        "stuck": [],
        "accounts": {"acme": 3, "initech": 2},
    }
    assert run_json(capsys, "run-due", url, "--all-accounts") == {"acted": 0, "stuck": [], "accounts": {}}
    status, _, err = run(capsys, "run-due", url, "--all-accounts", "--account", "acme")
    assert status == 2
    assert "not allowed with argument" in err


def test_run_due_on_a_database_without_the_schema_fails(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "other.db"
    with contextlib.closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    status, _, err = run(capsys, "run-due", sqlite_url(path))
    assert status == 1
    assert_one_error_line(err, "another application's database")


# ---------------------------------------------------------------- retention


def test_retention_erases_what_the_policy_no_longer_keeps(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url = sqlite_url(tmp_path / "desk.db")
    past = pendulum.now("UTC").subtract(days=10)
    with Helpdesk.open(url, clock=ManualClock(past)) as helpdesk:
        ana = helpdesk.add_user("Ana", "ana@example.com", role=Role.ADMIN)
        inbox = helpdesk.add_inbox("Support", members=[ana.id], by=ana.id)
        for n in range(3):
            maria = helpdesk.add_contact(name=f"Maria {n}")
            helpdesk.receive(maria.id, inbox.id, "My card ends in 4242")
        policy = RetentionPolicy(message_bodies_after=CalendarDuration(days=7))
        helpdesk.update_settings(by=ana.id, retention=policy)

    status, out, err = run(capsys, "retention", url, "--batch", "2")
    assert (status, err) == (0, "")
    assert out == "read 3 conversations: erased 3 message bodies and 0 emails\n"
    assert run_json(capsys, "retention", url) == {"conversations": 3, "messages": 0, "emails": 0}
    assert run(capsys, "retention", url, "--batch", "0")[0] == 2


# ---------------------------------------------------------------- deliver


def queued_export(url: str) -> None:
    with Helpdesk.open(url) as helpdesk:  # no mailer: the export waits in the outbox
        ana = helpdesk.add_user("Ana", "ana@example.com", role=Role.ADMIN)
        inbox = helpdesk.add_inbox("Support", members=[ana.id], by=ana.id)
        maria = helpdesk.add_contact(name="Maria")
        conversation = helpdesk.receive(maria.id, inbox.id, "Hello").conversation.id
        assert not helpdesk.export(conversation, by=ana.id).delivered


def test_deliver_sends_the_outbox_through_smtp(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, smtp_server: SmtpServer
) -> None:
    url = sqlite_url(tmp_path / "desk.db")
    queued_export(url)
    smtp = f"smtp://{smtp_server.host}:{smtp_server.port}?domain=desk.test"
    status, out, err = run(capsys, "deliver", url, "--smtp", smtp)
    assert (status, out, err) == (0, "sent 1, failed 0 (0 given up)\n", "")
    assert [received.rcpt_tos for received in smtp_server.handler.received] == [["ana@example.com"]]
    assert run_json(capsys, "deliver", url, "--smtp", smtp) == {"sent": [], "failed": []}
    with Helpdesk.open(url) as helpdesk:
        assert len(helpdesk.emails(EmailStatus.SENT)) == 1


def test_deliver_serves_every_account(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, smtp_server: SmtpServer
) -> None:
    url = sqlite_url(tmp_path / "desk.db")
    _snoozed_in(url, {"acme": 1, "globex": 1})
    with Helpdesk.open(url) as service:  # no mailer: the exports wait in the outbox
        for account, exports in (("acme", 2), ("globex", 1)):
            helpdesk = service.for_account(account)
            (ana,) = helpdesk.search_users("Ana")
            conversation = helpdesk.tab(ana.id, Tab.UNASSIGNED).conversations[0].id
            for _ in range(exports):
                assert not helpdesk.export(conversation, by=ana.id).delivered
    smtp = f"smtp://{smtp_server.host}:{smtp_server.port}"
    delivered = run_json(capsys, "deliver", url, "--smtp", smtp, "--all-accounts", "--limit", "1")
    assert (len(delivered["sent"]), delivered["failed"]) == (3, [])
    assert len(smtp_server.handler.received) == 3
    assert run_json(capsys, "deliver", url, "--smtp", smtp, "--all-accounts") == {"sent": [], "failed": []}


def test_deliver_takes_the_smtp_url_from_the_environment(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = sqlite_url(tmp_path / "desk.db")
    queued_export(url)
    monkeypatch.setenv("CONVOSTATE_SMTP_URL", f"smtp://{smtp_server.host}:{smtp_server.port}")
    assert len(run_json(capsys, "deliver", url)["sent"]) == 1


def test_deliver_reports_a_failed_send_and_exits_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url = sqlite_url(tmp_path / "desk.db")
    queued_export(url)
    status, out, err = run(capsys, "deliver", url, "--smtp", f"smtp://127.0.0.1:{_free_port()}", "--json")
    assert (status, err) == (1, "")
    failed = json.loads(out)["failed"]
    assert [(entry["requested_by"], entry["given_up"]) for entry in failed] == [
        (failed[0]["requested_by"], False)
    ]
    assert failed[0]["error"]


def test_deliver_without_an_smtp_url_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONVOSTATE_SMTP_URL", raising=False)
    status, _, err = run(capsys, "deliver", sqlite_url(tmp_path / "desk.db"))
    assert status == 2
    assert_one_error_line(err, "--smtp", "CONVOSTATE_SMTP_URL")


def test_deliver_with_a_bad_smtp_url_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = run(capsys, "deliver", sqlite_url(tmp_path / "desk.db"), "--smtp", "http://mail.test")
    assert status == 1
    assert_one_error_line(err, "smtp://")


# ---------------------------------------------------------------- simulate


def test_simulate_is_the_same_for_a_seed(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ("simulate", "--conversations", "30", "--days", "10", "--seed", "7")
    first = run_json(capsys, *argv)
    assert run_json(capsys, *argv) == first
    assert run_json(capsys, "simulate", "--conversations", "30", "--days", "10", "--seed", "8") != first

    conversations, messages, reopens = first["conversations"], first["messages"], first["reopens"]
    assert conversations["started"] == 30
    assert conversations["open"] + conversations["closed"] == 30
    assert messages["in"] >= 30
    assert messages["out"] >= 1
    assert reopens["total"] == reopens["within_window"] + reopens["after_window"] > 0
    tabs = first["tabs"]
    assert tabs["all_open"]["total"] == conversations["open"]
    assert tabs["closed"]["total"] == conversations["closed"]
    assigned = sum(entry["total"] for entry in tabs["assigned_to_you"].values())
    assert assigned + tabs["unassigned"]["total"] >= conversations["open"]


def test_simulate_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "simulate", "--conversations", "5", "--seed", "1")
    assert (status, err) == (0, "")  # stderr is no TTY here: no progress bar
    lines = out.splitlines()
    assert lines[0].split() == ["conversations", "5"]
    assert any(line.startswith("reopens") for line in lines)
    assert any(line.startswith("tab assigned to Ana") for line in lines)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_simulate_draws_a_progress_bar_on_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["simulate", "--conversations", "5", "--days", "2", "--json"]) == 0
    drawn = terminal.getvalue()
    assert "\rsimulating [" in drawn
    assert "day 2 of 2" in drawn
    assert drawn.endswith("\r")  # the bar is wiped at the end
    json.loads(capsys.readouterr().out)


def test_simulate_fills_a_new_database_and_refuses_a_used_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url = sqlite_url(tmp_path / "sim.db")
    summary = run_json(capsys, "simulate", "--conversations", "5", "--db", url)
    assert summary == run_json(capsys, "simulate", "--conversations", "5")  # the store does not matter
    status, _, err = run(capsys, "simulate", "--db", url)
    assert status == 1
    assert_one_error_line(err, "already holds a helpdesk")


@pytest.mark.parametrize(
    ("option", "value"), [("--conversations", "0"), ("--days", "-1"), ("--agents", "11")]
)
def test_simulate_refuses_sizes_out_of_range(
    capsys: pytest.CaptureFixture[str], option: str, value: str
) -> None:
    status, _, err = run(capsys, "simulate", option, value)
    assert status == 2
    assert_one_error_line(err, option)


def test_simulate_with_a_non_number_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "simulate", "--days", "many")
    assert status == 2
    assert "invalid int value: 'many'" in err


# ---------------------------------------------------------------- export-rules, check-rules


def test_export_rules_as_json_is_the_default_rules(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "export-rules") == (0, rules_to_json(DEFAULT_RULES) + "\n", "")


def test_export_rules_json_flag_is_the_json_format(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "export-rules", "--json") == run(capsys, "export-rules", "--format", "json")
    status, _, err = run(capsys, "export-rules", "--json", "--format", "toml")
    assert status == 2
    assert_one_error_line(err, "two formats")


def test_export_rules_as_toml_reads_back(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "export-rules", "--format", "toml")
    assert status == 0
    assert out.startswith("[[rules]]\n")
    assert rules_from_toml(out) == DEFAULT_RULES


def test_the_toml_writer_escapes_what_toml_needs() -> None:
    document = rules_to_data(DEFAULT_RULES)
    document["rules"][0]["description"] = 'a "quoted"\\ line\nand\ttab \x7f é'
    assert rules_from_toml(to_toml(document)).rules[0].description == document["rules"][0]["description"]


@pytest.mark.parametrize("extension", ["json", "toml"])
def test_check_rules_accepts_what_export_rules_wrote(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, extension: str
) -> None:
    _, exported, _ = run(capsys, "export-rules", "--format", extension)
    path = tmp_path / f"rules.{extension}"
    path.write_text(exported, encoding="utf-8")
    status, out, err = run(capsys, "check-rules", str(path))
    assert (status, err) == (0, "")
    assert out.startswith(f"OK: {path} holds 5 rules (unassign-after-reopen-window, ")
    assert run_json(capsys, "check-rules", str(path))["rules"][2] == "reopen-on-inbound"


def test_check_rules_shows_where_a_rules_file_is_wrong(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    document = rules_to_data(DEFAULT_RULES)
    document["rules"][2]["actions"][0]["do"] = "explode"
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(document), encoding="utf-8")

    status, out, err = run(capsys, "check-rules", str(path))
    assert (status, out) == (1, "")
    assert_one_error_line(err, f"{path}: rules[2].actions[0].do (rule reopen-on-inbound)", "explode")

    status, out, _ = run(capsys, "check-rules", str(path), "--json")
    assert status == 1
    result = json.loads(out)
    assert (result["ok"], result["path"], result["rule"]) == (
        False,
        "rules[2].actions[0].do",
        "reopen-on-inbound",
    )


def test_check_rules_of_a_file_that_is_not_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text("{not json", encoding="utf-8")
    status, _, err = run(capsys, "check-rules", str(path))
    assert status == 1
    assert_one_error_line(err, str(path))


def test_check_rules_reads_the_format_it_is_told(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "rules.txt"
    path.write_text(to_toml(rules_to_data(DEFAULT_RULES)), encoding="utf-8")
    assert run(capsys, "check-rules", str(path))[0] == 1  # read as JSON by default
    assert run(capsys, "check-rules", str(path), "--format", "toml")[0] == 0


def test_check_rules_of_a_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = run(capsys, "check-rules", str(tmp_path / "missing.toml"))
    assert status == 1
    assert_one_error_line(err, "cannot read the rules file", "No such file or directory")


# ---------------------------------------------------------------- the entry point


def test_python_m_convostate_runs_the_command() -> None:
    source = str(Path(convostate.__file__).resolve().parent.parent)
    paths = [source, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    finished = subprocess.run(
        [sys.executable, "-m", "convostate", "--help"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )
    assert (finished.returncode, finished.stderr) == (0, "")
    assert finished.stdout.startswith("usage: convostate ")
