"""The audit trail: append-only, hash-chained, verifiable by operators."""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import uuid

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from licensing import audit_guard
from licensing.audit import (
    audit_anchor,
    audit_log_read,
    audit_record,
    audit_verify_chain,
    event_hash,
    hash_of,
)
from licensing.exceptions import SubmissionRefused
from licensing.models import AppendOnlyError, AuditChainHead, AuditEvent
from licensing.services.applications import application_submit, application_withdraw
from licensing.services.reviews import review_claim
from tests.factories import draft

pytestmark = pytest.mark.django_db


def _four_events(exporter, reviewers) -> list[AuditEvent]:
    first = application_submit(application=draft(created_by=exporter), user=exporter)
    review_claim(review=first.reviews.get(), user=reviewers["economy"])
    second = application_submit(application=draft(created_by=exporter), user=exporter)
    application_withdraw(application=second, user=exporter, reason="Customer cancelled")
    return list(AuditEvent.objects.order_by("id"))


@pytest.fixture
def trail(exporter, reviewers) -> list[AuditEvent]:
    return _four_events(exporter, reviewers)


def test_every_event_links_to_the_one_before(trail):
    assert [e.action for e in trail] == [
        "application_submitted",
        "review_claimed",
        "application_submitted",
        "application_withdrawn",
    ]
    assert trail[0].prev_hash == ""
    for previous, event in itertools.pairwise(trail):
        assert event.prev_hash == previous.hash
    report = audit_verify_chain()
    assert report.ok and report.checked == 4


def test_an_event_is_stored_as_recorded_and_the_head_moves_to_it(exporter):
    with transaction.atomic():
        first = audit_record(application=None, actor=exporter, action="first", data={"n": 1})
        second = audit_record(
            application=None, actor=None, action="second", reason="why", data={"at": "x"}
        )
    stored = AuditEvent.objects.get(pk=second.pk)
    assert stored.prev_hash == first.hash
    assert (stored.actor_name, stored.reason, stored.data) == ("system", "why", {"at": "x"})
    assert stored.created_at == second.created_at
    assert hash_of(stored) == stored.hash == second.hash
    assert AuditChainHead.objects.get(pk=1).last_hash == second.hash
    assert audit_verify_chain().ok


def test_a_tampered_reason_is_detected_at_that_event(trail, capsys):
    target = trail[3]
    audit_guard.remove(connection)  # a hostile DBA drops the triggers first
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {AuditEvent._meta.db_table} SET reason = %s WHERE id = %s",
            ["Exporter changed its mind", target.pk],
        )
    report = audit_verify_chain()
    assert report.broken.pk == target.pk
    assert report.checked == 3
    with pytest.raises(CommandError, match=f"broken at event {target.pk}"):
        call_command("verify_audit_chain")


def test_a_deleted_event_is_detected_at_the_next_one(trail):
    audit_guard.remove(connection)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEvent._meta.db_table} WHERE id = %s", [trail[1].pk])
    report = audit_verify_chain()
    assert report.broken.pk == trail[2].pk
    assert "link" in report.problem


def test_a_truncated_tail_is_detected(trail):
    audit_guard.remove(connection)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEvent._meta.db_table} WHERE id = %s", [trail[-1].pk])
    report = audit_verify_chain()
    assert not report.ok
    assert "missing" in report.problem


def test_the_command_reports_an_intact_chain(trail, capsys):
    call_command("verify_audit_chain")
    assert "4 events verified" in capsys.readouterr().out


def test_events_cannot_be_changed_or_deleted_through_the_orm(trail):
    event = trail[0]
    event.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(reason="rewritten")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert audit_verify_chain().ok


def test_a_refused_submission_leaves_no_event(exporter):
    with pytest.raises(SubmissionRefused):
        application_submit(application=draft(created_by=exporter, destination="SY"), user=exporter)
    assert not AuditEvent.objects.exists()


# The database's own guard, and anchors outside it.

TABLE = AuditEvent._meta.db_table


@pytest.mark.parametrize(
    "statement",
    [
        f"UPDATE {TABLE} SET reason = 'rewritten'",
        f"DELETE FROM {TABLE}",
        f"DELETE FROM {TABLE} WHERE id = (SELECT max(id) FROM {TABLE})",
    ],
)
def test_the_database_refuses_to_change_or_delete_events_in_plain_sql(trail, statement):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert list(AuditEvent.objects.order_by("id")) == trail
    assert audit_verify_chain().ok


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # committed rows: nothing else holds TRUNCATE back
def test_postgresql_refuses_to_truncate_the_trail(trail):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"TRUNCATE {TABLE} CASCADE")
    assert AuditEvent.objects.count() == len(trail)


def test_hashes_are_keyed_so_a_database_writer_cannot_recompute_them(trail, settings):
    event = trail[0]
    assert hash_of(event) == event.hash
    settings.AUDIT_HMAC_KEY = "another key"
    assert hash_of(event) != event.hash  # plain SHA-256 of the same fields would not change
    payload = {name: getattr(event, name) for name in ("actor_name", "action", "reason")}
    assert "another key" not in str(payload)
    assert event_hash  # one function hashes, for the live trail, the seeder and the check


def _recompute_from(events: list[AuditEvent]) -> None:
    """An insider with the key and DDL rights: rewrite an event and re-chain all after it."""
    audit_guard.remove(connection)
    prev = ""
    for event in events:
        event.prev_hash = prev
        event.hash = hash_of(event)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {TABLE} SET reason = %s, prev_hash = %s, hash = %s WHERE id = %s",
                [event.reason, event.prev_hash, event.hash, event.pk],
            )
        prev = event.hash
    AuditChainHead.objects.filter(pk=1).update(last_hash=prev)


def test_a_trail_recomputed_after_an_edit_no_longer_matches_its_anchor(trail):
    anchor = audit_anchor()
    assert (anchor.count, anchor.last_id) == (len(trail), trail[-1].pk)
    assert audit_verify_chain().ok
    events = list(AuditEvent.objects.order_by("id"))
    events[1].reason = "Nothing happened"
    _recompute_from(events)
    report = audit_verify_chain()
    assert not report.ok
    assert report.broken.pk == trail[-1].pk
    assert "anchor" in report.problem
    with pytest.raises(CommandError, match="anchor"):
        call_command("verify_audit_chain")


def test_events_cut_off_the_end_with_the_head_moved_are_reported(trail):
    call_command("anchor_audit_chain")
    audit_guard.remove(connection)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE id >= %s", [trail[2].pk])
    AuditChainHead.objects.filter(pk=1).update(last_hash=trail[1].hash)
    report = audit_verify_chain()
    assert not report.ok
    assert "missing" in report.problem
    with pytest.raises(CommandError, match="missing"):
        call_command("verify_audit_chain")


def test_everything_deleted_and_the_head_blanked_is_reported(trail):
    audit_anchor()
    audit_guard.remove(connection)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE}")
    AuditChainHead.objects.filter(pk=1).update(last_hash="")
    report = audit_verify_chain()
    assert not report.ok
    assert "missing" in report.problem


def test_a_forged_anchor_is_refused(trail, settings):
    anchor = audit_anchor()
    path = settings.AUDIT_ANCHOR_DIR / anchor.path.rsplit("/", 1)[-1]
    data = json.loads(path.read_text())
    data["count"] = 1
    path.write_text(json.dumps(data))
    report = audit_verify_chain()
    assert not report.ok
    assert "not signed" in report.problem


def test_anchors_accumulate_and_later_appends_still_verify(trail, exporter):
    audit_anchor()
    application_submit(application=draft(created_by=exporter), user=exporter)
    audit_anchor()
    assert audit_verify_chain().ok


def test_an_anchor_of_the_empty_trail_does_not_fail_the_events_after_it(exporter):
    # A fresh deployment: the daily anchor runs before anyone has done anything.
    assert audit_anchor().count == 0
    assert audit_verify_chain().ok
    application_submit(application=draft(created_by=exporter), user=exporter)
    report = audit_verify_chain()
    assert report.ok, report.problem
    assert report.checked == 1


def test_the_chain_head_deleted_under_anchored_events_is_reported(trail):
    audit_anchor()
    AuditChainHead.objects.all().delete()  # the head has no trigger: any writer can do this
    report = audit_verify_chain()
    assert not report.ok
    assert "head" in report.problem
    with pytest.raises(CommandError, match="head"):
        call_command("verify_audit_chain")


# The log: every committed event's id (its sequence number) and hash, a continuous anchor.

ANCHOR_LOGGER = "licensing.audit.anchor"


@pytest.fixture
def shipped_log(tmp_path):
    """Where the anchor logger's lines go, as a log shipper would keep them (with a prefix)."""
    path = tmp_path / "shipped.log"
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(name)s] %(message)s"))
    logger = logging.getLogger(ANCHOR_LOGGER)
    logger.addHandler(handler)
    yield path
    logger.removeHandler(handler)
    handler.close()


@pytest.fixture
def logged_trail(exporter, reviewers, shipped_log, django_capture_on_commit_callbacks):
    """The four events, each committed (its on-commit callbacks run) and so logged."""
    with django_capture_on_commit_callbacks(execute=True):
        return _four_events(exporter, reviewers)


def _logged(path) -> list[tuple[int, str]]:
    lines = [line for line in path.read_text().splitlines() if ANCHOR_LOGGER in line]
    return [
        (int(line.split("seq=")[1].split()[0]), line.split("hash=")[1].split()[0])
        for line in lines
        if "seq=" in line
    ]


def test_each_event_is_logged_with_its_sequence_number_and_hash_once_it_commits(
    logged_trail, shipped_log
):
    assert _logged(shipped_log) == [(event.pk, event.hash) for event in logged_trail]


def test_an_event_rolled_back_with_its_change_is_never_logged(
    exporter, shipped_log, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            audit_record(application=None, actor=exporter, action="doomed")
            1 / 0  # noqa: B018 - the change fails after its event was appended
        with transaction.atomic():
            kept = audit_record(application=None, actor=exporter, action="kept")
    assert _logged(shipped_log) == [(kept.pk, kept.hash)]


def test_appending_an_event_adds_no_statement_and_its_log_line_waits_for_the_commit(
    exporter, shipped_log, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        warm_up = audit_record(application=None, actor=exporter, action="warm-up")
    with (
        django_capture_on_commit_callbacks() as callbacks,
        CaptureQueriesContext(connection) as queries,
        transaction.atomic(),
    ):
        lean = audit_record(application=None, actor=exporter, action="lean")
        assert [seq for seq, _ in _logged(shipped_log)] == [warm_up.pk]
    statements = [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]
    # Lock the head; insert the event and move the head (one statement on PostgreSQL).
    assert len(statements) == (2 if connection.vendor == "postgresql" else 3), statements
    assert len(callbacks) == 1
    callbacks[0]()
    assert _logged(shipped_log) == [(warm_up.pk, warm_up.hash), (lean.pk, lean.hash)]


def test_the_log_of_an_intact_chain_verifies(logged_trail, shipped_log, capsys):
    report = audit_verify_chain(logged=audit_log_read(shipped_log.read_text().splitlines()))
    assert report.ok and report.checked == 4
    call_command("verify_audit_chain", "--log", str(shipped_log))
    assert "4 events verified" in capsys.readouterr().out


def test_events_cut_after_the_last_anchor_with_the_head_moved_back_are_caught_by_the_log(
    exporter, shipped_log, django_capture_on_commit_callbacks
):
    def append(action: str) -> AuditEvent:
        with transaction.atomic():
            return audit_record(application=None, actor=exporter, action=action)

    with django_capture_on_commit_callbacks(execute=True):
        events = [append("first"), append("second")]
        audit_anchor()
        events += [append("third"), append("fourth")]  # newer than any anchor
    audit_guard.remove(connection)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE id >= %s", [events[2].pk])
    AuditChainHead.objects.filter(pk=1).update(last_hash=events[1].hash)
    # Without the log nothing outside the database remembers the last two.
    assert audit_verify_chain().ok
    report = audit_verify_chain(logged=audit_log_read(shipped_log.read_text().splitlines()))
    assert not report.ok
    assert f"event {events[-1].pk}" in report.problem
    assert "truncated" in report.problem
    with pytest.raises(CommandError, match="truncated"):
        call_command("verify_audit_chain", "--log", str(shipped_log))


def test_every_event_deleted_and_the_head_emptied_before_any_anchor_is_caught_by_the_log(
    logged_trail, shipped_log
):
    audit_guard.remove(connection)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE}")
    AuditChainHead.objects.filter(pk=1).update(last_hash="")
    with pytest.raises(CommandError, match="truncated"):
        call_command("verify_audit_chain", "--log", str(shipped_log))


def test_an_event_rewritten_and_rechained_with_the_key_is_caught_by_the_log(
    logged_trail, shipped_log
):
    events = list(AuditEvent.objects.order_by("id"))
    events[1].reason = "Nothing happened"
    _recompute_from(events)
    assert audit_verify_chain().ok  # no anchor: the insider with the key rewrote it all
    report = audit_verify_chain(logged=audit_log_read(shipped_log.read_text().splitlines()))
    assert not report.ok
    assert report.broken.pk == logged_trail[1].pk
    assert "log" in report.problem


def test_a_deleted_event_that_was_logged_is_named(logged_trail, shipped_log):
    events = list(AuditEvent.objects.order_by("id"))
    audit_guard.remove(connection)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE id = %s", [events[1].pk])
    events.pop(1)
    _recompute_from(events)
    report = audit_verify_chain(logged=audit_log_read(shipped_log.read_text().splitlines()))
    assert not report.ok
    assert f"event {logged_trail[1].pk}" in report.problem
    assert "missing" in report.problem


def test_two_hashes_logged_for_one_event_are_reported(logged_trail, shipped_log, tmp_path):
    other = tmp_path / "other.log"
    other.write_text(f"audit event seq={logged_trail[0].pk} hash={'0' * 64}\n")
    with pytest.raises(CommandError, match=f"event {logged_trail[0].pk}"):
        call_command("verify_audit_chain", "--log", str(shipped_log), "--log", str(other))


# The runtime's database role (deploy/: migrations as the owner, web, worker and beat as
# a role made by `grant_runtime_role`), which cannot lift the guard.


@pytest.fixture
def runtime_role(monkeypatch):
    """A runtime role made as deploy makes it, from RUNTIME_DATABASE_URL; dropped after."""
    name = f"licensing_runtime_{uuid.uuid4().hex[:12]}"  # roles are the whole cluster's
    db = connection.settings_dict
    url = f"postgres://{name}:runtime-password@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    monkeypatch.setenv("RUNTIME_DATABASE_URL", url)
    yield name
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
        cursor.execute(f'DROP OWNED BY "{name}"')  # its grants and default privileges
        cursor.execute(f'DROP ROLE IF EXISTS "{name}"')


@contextlib.contextmanager
def acting_as(role: str):
    """This process's connection with the role's privileges, as if it had logged in as it."""
    with connection.cursor() as cursor:
        cursor.execute(f'SET ROLE "{role}"')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # the role logs in on a connection of its own
def test_the_runtime_role_cannot_lift_the_guard_or_remove_events(trail, runtime_role, capsys):
    call_command("grant_runtime_role")
    assert runtime_role in capsys.readouterr().out
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"] or 5432, dbname=db["NAME"], user=runtime_role,
        password="runtime-password", autocommit=True,
    ) as runtime:  # fmt: skip
        for statement, refusal in [
            (f"ALTER TABLE {TABLE} DISABLE TRIGGER ALL", "must be owner"),
            (f"ALTER TABLE {TABLE} DISABLE TRIGGER licensing_audit_no_change", "must be owner"),
            (f"DROP TRIGGER licensing_audit_no_change ON {TABLE}", "must be owner"),
            ("SET session_replication_role = replica", "permission denied"),
            (f"TRUNCATE {TABLE}", "permission denied"),
            (f"DELETE FROM {TABLE}", "permission denied"),
            (f"UPDATE {TABLE} SET reason = 'rewritten'", "permission denied"),
            (f"DELETE FROM {AuditChainHead._meta.db_table}", "permission denied"),
            (f"TRUNCATE {AuditChainHead._meta.db_table}", "permission denied"),
        ]:
            with pytest.raises(psycopg.Error, match=refusal):
                runtime.execute(statement)
        assert runtime.execute(f"SELECT count(*) FROM {TABLE}").fetchone() == (len(trail),)
    assert list(AuditEvent.objects.order_by("id")) == trail


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_runtime_role_appends_events_and_does_the_days_work(
    exporter, reviewers, runtime_role, shipped_log, capsys
):
    call_command("grant_runtime_role")
    with acting_as(runtime_role):
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone() == (runtime_role,)
        trail = _four_events(exporter, reviewers)  # drafts, submissions, a claim, a withdrawal
        anchor = audit_anchor()
        report = audit_verify_chain(logged=audit_log_read(shipped_log.read_text().splitlines()))
    assert anchor.count == len(trail) == 4
    assert report.ok, report.problem
    assert report.logged == 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_tables_migrations_add_later_are_open_to_the_runtime_role(runtime_role):
    call_command("grant_runtime_role")
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE licensing_added_later (id bigserial PRIMARY KEY, note text)")
    try:
        with acting_as(runtime_role), connection.cursor() as cursor:
            cursor.execute("INSERT INTO licensing_added_later (note) VALUES ('hello')")
            cursor.execute("SELECT note FROM licensing_added_later")
            assert cursor.fetchall() == [("hello",)]
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE licensing_added_later")


def test_the_runtime_role_must_not_be_the_owner(monkeypatch):
    if connection.vendor != "postgresql":
        call_command("grant_runtime_role")  # SQLite has no roles: nothing to do, no error
        return
    db = connection.settings_dict
    monkeypatch.setenv("RUNTIME_DATABASE_URL", f"postgres://{db['USER']}@{db['HOST']}/{db['NAME']}")
    with pytest.raises(CommandError, match="owner"):
        call_command("grant_runtime_role")


@pytest.mark.postgres
@pytest.mark.parametrize("power", ["SUPERUSER", "IN ROLE {owner}"])
def test_a_runtime_role_that_could_act_as_the_owner_is_refused(monkeypatch, power):
    name = f"licensing_runtime_{uuid.uuid4().hex[:12]}"  # rolled back with the test
    db = connection.settings_dict
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        [owner] = cursor.fetchone()
        cursor.execute(f'CREATE ROLE "{name}" LOGIN {power.format(owner=owner)}')
    monkeypatch.setenv("RUNTIME_DATABASE_URL", f"postgres://{name}@{db['HOST']}/{db['NAME']}")
    with pytest.raises(CommandError, match="superuser or acts as the owner"):
        call_command("grant_runtime_role")
