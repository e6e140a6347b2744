"""The FIT-Connect backend against a local FIT-Connect TEST DOUBLE.

FIT-Connect itself (its test environment) cannot be reached from here, so the route is the
double in ``tests/support/fit_connect_double.py``: an aiohttp server implementing the published
Submission and Routing API paths the adapter uses. It decrypts what it receives with the
destination's private key, validates the metadata against the FIT-Connect metadata schema,
signs its Security Event Tokens and fails on demand (5xx, timeouts, rejections). Everything
else is real: joserfc for JWE/JWS, jsonschema, the outbox and the delivery step.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from joserfc import jwt
from joserfc.jwk import RSAKey
from support.fit_connect_double import FitConnectDouble

from buergerassistent import fim_mapping, regional_key
from buergerassistent.catalogue import load_catalogue
from buergerassistent.storage import make_engine
from buergerassistent.submission import delivery
from buergerassistent.submission.fit_connect import (
    EVENT_PREFIX,
    FitConnectBackend,
    SubmissionStore,
    validate_metadata,
    verify_callback,
)
from buergerassistent.submission.outbox import DELIVERED, REJECTED, Outbox
from buergerassistent.submission.portal_client import PortalRejected, PortalUnavailable

FIXTURES = Path(__file__).resolve().parent.parent / "data" / "fit_connect"
CATALOGUE = load_catalogue(FIXTURES / "procedures")
PROC = CATALOGUE.get("fit_testantrag")
MUNICH_ARS = "091620000000"
DATA = {"vorname": "Erika", "nachname": "Mustermann", "strasse": "Marienplatz 8", "plz": "80331", "ort": "München"}


def mapping():
    return fim_mapping.mapping_for(PROC)


async def _setup(tmp_path, **double_args):
    double = FitConnectDouble(**double_args)
    server = TestServer(double.app())
    await server.start_server()
    double.base_url = str(server.make_url("")).rstrip("/")
    dest = double.add_destination(PROC.leika, MUNICH_ARS, mapping().schema.uri)
    backend = FitConnectBackend(
        store=SubmissionStore(make_engine(f"sqlite:///{tmp_path / 'outbox.db'}")),
        catalogue=CATALOGUE,
        **double.sender_settings(),
        timeout_s=1.0,
    )
    return double, server, dest, backend


@pytest.fixture
async def fit(tmp_path):
    double, server, dest, backend = await _setup(tmp_path)
    double.slow_s = 1.5
    yield double, dest, backend
    await backend.close()
    await server.close()


def _announces(double):
    return sum(1 for m, p in double.requests if m == "POST" and p == "/v1/submissions")


async def test_submission_arrives_decrypted_with_valid_metadata_and_fim_data(fit):
    double, dest, backend = fit
    receipt = await backend.submit("fit_testantrag", DATA, "key-1")
    uuid.UUID(receipt.case_number)  # the caseId until the authority's own number arrives
    (sub,) = double.submissions.values()
    assert sub.submitted and double.problems == []
    assert sub.data == {
        "$schema": "https://schema.fitko.de/fim/s00000121_1.0.schema.json",
        "G00000630": {"F00000045": "Erika", "F00000013": "Mustermann"},
        "G00000771": {
            "G00000236": {
                "G00000237": {
                    "G00000040": {"F00000053": "Marienplatz 8"},
                    "G00000113": {"F00000054": "80331", "F00000035": "München"},
                }
            }
        },
    }
    assert sub.metadata["publicServiceType"]["identifier"] == "urn:de:fim:leika:leistung:99115003000000"
    assert sub.metadata["additionalReferenceInfo"]["senderReference"] == "key-1"
    (attachment,) = sub.attachments.values()
    assert attachment.startswith(b"%PDF")
    assert sub.metadata["contentStructure"]["attachments"][0]["mimeType"] == "application/pdf"


async def test_status_comes_from_verified_security_event_tokens(fit):
    double, dest, backend = fit
    receipt = await backend.submit("fit_testantrag", DATA, "key-2")
    found = await backend.status_history(receipt.case_number)
    assert found["procedure"] == "fit_testantrag"
    assert [h["status"] for h in found["history"]] == ["eingegangen", "in_bearbeitung"]
    assert found["status"] == "in_bearbeitung"
    assert await backend.status_history(str(uuid.uuid4())) is None


async def test_rejection_by_the_destination_becomes_abgelehnt(tmp_path):
    double, server, dest, backend = await _setup(tmp_path)
    double.reject = True
    try:
        receipt = await backend.submit("fit_testantrag", DATA, "key-r")
        found = await backend.status_history(receipt.case_number)
        assert found["status"] == "abgelehnt"
        assert "zurückgewiesen" in found["history"][-1]["note"]
    finally:
        await backend.close()
        await server.close()


async def test_forged_events_are_ignored(fit):
    double, dest, backend = fit
    receipt = await backend.submit("fit_testantrag", DATA, "key-3")
    (sub,) = double.submissions.values()
    forged = jwt.encode(
        {"alg": "PS512", "kid": dest.signing_kid, "typ": "secevent+jwt"},
        {
            "iss": dest.destination_id,
            "iat": int(time.time()) + 5,
            "jti": "x",
            "sub": f"submission:{sub.submission_id}",
            "txn": f"case:{sub.case_id}",
            "events": {EVENT_PREFIX + "reject": {}},
        },
        RSAKey.generate_key(2048),
        algorithms=["PS512"],
    )
    sub.events.append(forged)
    found = await backend.status_history(receipt.case_number)
    assert found["status"] == "in_bearbeitung"


async def test_retry_after_lost_answer_reuses_the_announced_submission(fit):
    double, dest, backend = fit
    double.fail_once.append(("PUT", r"/v1/submissions/[^/]+", "lost"))
    with pytest.raises(PortalUnavailable):
        await backend.submit("fit_testantrag", DATA, "key-4")
    # The route has it already; the retry must neither announce nor send a second one.
    receipt = await backend.submit("fit_testantrag", DATA, "key-4")
    assert _announces(double) == 1
    assert double.summary()["submitted"] == 1
    assert receipt.case_number == next(iter(double.submissions.values())).case_id


async def test_retry_after_timeout_of_the_announcement_before_send(fit):
    double, dest, backend = fit
    double.fail_once.append(("PUT", r"/v1/submissions/[^/]+/attachments/[^/]+", "slow"))
    with pytest.raises(PortalUnavailable):
        await backend.submit("fit_testantrag", DATA, "key-5")
    assert double.summary()["submitted"] == 0
    await backend.submit("fit_testantrag", DATA, "key-5")
    assert _announces(double) == 1 and double.summary()["submitted"] == 1


async def test_unknown_address_sends_nothing_and_says_so(fit):
    double, dest, backend = fit
    with pytest.raises(PortalRejected) as err:
        await backend.submit("fit_testantrag", dict(DATA, plz="12345", ort="Irgendwo"), "key-6")
    assert err.value.error == "unknown_region" and "nicht versendet" in err.value.message
    assert not any(p.startswith("/v1/") for _, p in double.requests)


async def test_route_with_a_bad_signature_is_not_used(fit):
    double, dest, backend = fit
    double.tamper_route = True
    with pytest.raises(PortalUnavailable):
        await backend.submit("fit_testantrag", DATA, "key-7")
    assert _announces(double) == 0


async def test_destination_key_below_4096_bit_is_refused(tmp_path):
    double, server, dest, backend = await _setup(tmp_path, encryption_bits=2048)
    try:
        with pytest.raises(PortalUnavailable):
            await backend.submit("fit_testantrag", DATA, "key-8")
        assert _announces(double) == 0
    finally:
        await backend.close()
        await server.close()


async def test_outbox_delivers_exactly_once_through_faults(fit, tmp_path):
    double, dest, backend = fit
    outbox = Outbox.from_url(f"sqlite:///{tmp_path / 'outbox.db'}")
    double.fail_once += [
        ("POST", r"/v1/submissions", "lost"),
        ("PUT", r"/v1/submissions/[^/]+", "slow"),
    ]
    outbox.enqueue("app-1", "fit_testantrag", DATA, "conv-1")
    for _ in range(6):
        entry = await delivery.attempt(outbox, backend, "app-1")
        if entry.state != "pending":
            break
        with outbox.engine.begin() as conn:  # the retry is due at once in the test
            conn.exec_driver_sql("UPDATE submission_outbox SET next_attempt_at = '2000-01-01 00:00:00'")
    assert entry.state == DELIVERED and entry.data == {}
    stats = double.summary()
    assert stats["submitted"] == 1 and stats["references"] == ["app-1"]


async def test_the_worker_tells_the_status_from_the_route_as_a_proactive_message(fit, tmp_path):
    """The delivery worker's status watcher (issue 17) with this backend: the route's verified
    events become a notice in the outbox and a message to the conversation that consented."""
    from delivery_worker.status import StatusWatcher

    double, dest, backend = fit

    class Notifier:
        enabled = True
        calls: list[str] = []

        async def notify(self, conversation_id):
            self.calls.append(conversation_id)
            return True

    outbox = Outbox.from_url(f"sqlite:///{tmp_path / 'outbox-watch.db'}")
    outbox.enqueue("app-w", "fit_testantrag", DATA, "tg-w")
    outbox.watch_status("app-w", "tg-w")  # the citizen agreed to status messages
    entry = await delivery.attempt(outbox, backend, "app-w")
    assert entry.state == DELIVERED
    notifier = Notifier()
    watcher = StatusWatcher(outbox, backend, notifier, interval_s=1)
    await watcher.run_if_due(now=10)
    assert notifier.calls == ["tg-w"]
    (notice,) = outbox.pending_notices("tg-w")
    assert notice.case_number == entry.case_number
    assert notice.notice["status"] == "in_bearbeitung" and "angenommen" in notice.notice["note"]
    outbox.dispose()


async def test_unknown_region_ends_as_rejected_entry(fit, tmp_path):
    double, dest, backend = fit
    outbox = Outbox.from_url(f"sqlite:///{tmp_path / 'outbox2.db'}")
    outbox.enqueue("app-2", "fit_testantrag", dict(DATA, plz="99999"), "conv-2")
    entry = await delivery.attempt(outbox, backend, "app-2")
    assert entry.state == REJECTED and "plz" in entry.rejection["fields"]


def test_metadata_schema_is_enforced():
    with pytest.raises(Exception, match="contentStructure"):
        validate_metadata({"$schema": "x"})
    validate_metadata({"contentStructure": {"attachments": []}})


def test_callback_hmac_and_age():
    body, secret = b'{"type":"test"}', "s3cret"
    now = int(time.time())
    sig = hmac.new(secret.encode(), f"{now}.".encode() + body, hashlib.sha512).hexdigest()
    assert verify_callback(body, str(now), sig, secret)
    assert not verify_callback(body + b" ", str(now), sig, secret)
    old = now - 301
    old_sig = hmac.new(secret.encode(), f"{old}.".encode() + body, hashlib.sha512).hexdigest()
    assert not verify_callback(body, str(old), old_sig, secret)


# --------------------------------------------------------------------------- FIM mapping


def test_fim_mapping_builds_the_nested_document_and_its_schema():
    m = mapping()
    doc = m.document(DATA)
    assert doc["G00000630"] == {"F00000045": "Erika", "F00000013": "Mustermann"}
    import jsonschema

    jsonschema.Draft202012Validator(m.json_schema()).validate(doc)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(m.json_schema()).validate(dict(doc, extra=1))


def _proc_with(**changes):
    import dataclasses

    fields = list(PROC.fields)
    for name, fim in changes.items():
        i = next(i for i, f in enumerate(fields) if f.name == name)
        fields[i] = dataclasses.replace(fields[i], fim=fim)
    return dataclasses.replace(PROC, fields=tuple(fields))


def test_mapping_with_unknown_missing_or_ambiguous_field_fails():
    assert fim_mapping.check_mapping(PROC)[0] == []
    errors, _ = fim_mapping.check_mapping(_proc_with(vorname="F99999999"))
    assert any("F99999999" in e for e in errors)
    errors, _ = fim_mapping.check_mapping(_proc_with(nachname=None))
    assert any("nachname" in e and "fehlt" in e for e in errors)
    errors, _ = fim_mapping.check_mapping(_proc_with(strasse="F00000053"))
    assert any("mehrfach" in e for e in errors)


def test_content_lint_reports_mapping_errors():
    from content import lint

    assert [i for i in lint.check_fim_mappings() if i.level == "error"] == []
    broken = load_catalogue(FIXTURES / "procedures")
    issues = lint.check_fim_mappings(catalogue=[_proc_with(vorname="F12345678")] + list(broken))
    assert any(i.level == "error" and "F12345678" in str(i) for i in issues)


# --------------------------------------------------------------------------- regional key


def test_munich_is_shipped():
    assert regional_key.lookup("80331", "München").ars == MUNICH_ARS
    assert regional_key.lookup("81929", "Muenchen").ars == MUNICH_ARS
    assert regional_key.lookup("80331", "Munich").ars == MUNICH_ARS  # other_names: an English address
    assert regional_key.lookup("80331", "Berlin") is None  # postcode and town disagree
    assert regional_key.lookup("1234", None) is None


def test_gemeindeverzeichnis_import(tmp_path, capsys):
    out = tmp_path / "ars.csv"
    assert regional_key.main(["import", str(FIXTURES / "GV100AD_fixture.txt"), "-o", str(out)]) == 0
    table = regional_key.read_table(out)
    by_name = {m.name: m for m in table}
    assert by_name["München, Landeshauptstadt"].ars == MUNICH_ARS
    assert by_name["Aßdorf"].ars == "091755303132"  # Land+RB+Kreis, Gemeindeverband, Gemeinde
    # Two municipalities share 85617: only the town name decides, never a guess.
    assert regional_key.lookup("85617", "Neustadt", table).name == "Neustadt"
    assert regional_key.lookup("85617", None, table) is None
    assert "Destatis" in out.read_text(encoding="utf-8").splitlines()[0]


# --------------------------------------------------------------------------- in the chat


@pytest.mark.parametrize("reject", [False, True])
async def test_citizen_sees_the_route_status_in_the_chat(fit, tmp_path, monkeypatch, reject):
    """Confirm → FIT-Connect (double) → "Wie ist der Stand?" shows the status the signed events
    carry, through the real chat actions (submit_confirmed, ActionApplicationStatus)."""
    from rasa_sdk.executor import CollectingDispatcher
    from support.trackers import make_tracker, texts

    from actions import submission_actions as chat_actions

    double, dest, backend = fit
    double.reject = reject
    store = Outbox.from_url(f"sqlite:///{tmp_path / 'chat-outbox.db'}")
    monkeypatch.setattr(chat_actions, "outbox", lambda: store)
    monkeypatch.setattr(chat_actions, "backend_from_env", lambda: backend)
    monkeypatch.setattr(chat_actions, "_status_source", lambda: backend)
    outcome = await chat_actions.submit_confirmed(PROC, DATA, "app-chat", "conv-chat")
    assert outcome.state == DELIVERED
    told = CollectingDispatcher()
    chat_actions.messages.tell_delivered(told, PROC.name, outcome.entry.case_number)
    assert outcome.entry.case_number in texts(told)
    assert "Eingangsbestätigung herunterladen" not in texts(told)  # the portal has no PDF of it
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text="Wie ist der Stand?", intent="ask_status", sender_id="conv-chat")
    await chat_actions.ActionApplicationStatus().run(dispatcher, tracker, {})
    reply = texts(dispatcher)
    assert outcome.entry.case_number in reply
    assert ("abgelehnt" if reject else "in Bearbeitung") in reply


# --------------------------------------------------------------------------- configuration


def test_per_procedure_switch_refuses_procedures_without_mapping(monkeypatch, tmp_path):
    from buergerassistent.submission.backends import BackendNotAvailable, PerProcedureBackend, backend_from_env

    monkeypatch.setenv("BA_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("FITCONNECT_PROCEDURES", "meldebescheinigung")
    with pytest.raises(BackendNotAvailable, match="FITCONNECT_CLIENT_ID"):
        backend_from_env()
    for name, value in {
        "FITCONNECT_TOKEN_URL": "http://127.0.0.1:9/token",
        "FITCONNECT_SUBMISSION_URL": "http://127.0.0.1:9",
        "FITCONNECT_ROUTING_URL": "http://127.0.0.1:9",
        "FITCONNECT_SIGNATURE_JWKS_URL": "http://127.0.0.1:9/jwks",
        "FITCONNECT_CLIENT_ID": "id",
        "FITCONNECT_CLIENT_SECRET": "secret",
    }.items():
        monkeypatch.setenv(name, value)
    # Meldebescheinigung has a LeiKa key but no FIM mapping: the start fails and says why.
    with pytest.raises(BackendNotAvailable, match="fim_schema"):
        backend_from_env()
    monkeypatch.setenv("FITCONNECT_PROCEDURES", "")
    assert not isinstance(backend_from_env(), PerProcedureBackend)
    monkeypatch.setenv("SUBMISSION_BACKEND", "fit-connect")
    routed = backend_from_env()
    # Everything over FIT-Connect, except the call-back request: it goes to the portal's staff.
    assert routed.name == "fit-connect+reference"
    assert routed.backend_for("blaue_karte_eu").name == "fit-connect"
    assert routed.backend_for("rueckrufbitte").name == "reference"
    # The call-back request cannot be switched onto FIT-Connect: it has no authority there.
    monkeypatch.setenv("SUBMISSION_BACKEND", "reference")
    monkeypatch.setenv("FITCONNECT_PROCEDURES", "rueckrufbitte")
    with pytest.raises(BackendNotAvailable, match="portal's own staff"):
        backend_from_env()


class _RecordingPortal:
    """Stands in for the reference portal backend: records what reaches it."""

    name = "reference"

    def __init__(self):
        self.received: list[tuple[str, str]] = []

    async def submit(self, procedure, data, idempotency_key, citizen=None):
        from buergerassistent.submission.portal_client import Receipt

        self.received.append((procedure, idempotency_key))
        return Receipt("BA-2026-TESTCASE", "eingegangen", "2026-12-03T14:00:00+00:00", procedure)

    async def status_history(self, case_number):
        return {"case_number": case_number, "procedure": "rueckrufbitte", "status": "eingegangen", "history": []}


async def test_call_backs_go_to_the_portal_while_applications_go_over_fit_connect(fit):
    from buergerassistent.submission.backends import PerProcedureBackend, portal_procedures

    double, dest, backend = fit
    portal = _RecordingPortal()
    routed = PerProcedureBackend(portal, backend, set(portal_procedures()), fit_connect_default=True)
    callback = {"callback_name": "Erika Mustermann", "callback_contact": "089 233-0", "callback_topic": "Hundesteuer"}
    callback_receipt = await routed.submit("rueckrufbitte", callback | {"callback_consent": "ja"}, "rueckrufbitte-1")
    application_receipt = await routed.submit("fit_testantrag", DATA, "key-routed")
    assert portal.received == [("rueckrufbitte", "rueckrufbitte-1")]
    assert double.summary()["submitted"] == 1 and _announces(double) == 1
    uuid.UUID(application_receipt.case_number)
    # The status of each comes from where it went.
    assert (await routed.status_history(application_receipt.case_number))["procedure"] == "fit_testantrag"
    assert (await routed.status_history(callback_receipt.case_number))["procedure"] == "rueckrufbitte"


async def test_an_announcement_the_route_dropped_is_announced_again(fit):
    double, dest, backend = fit
    double.fail_once.append(("PUT", r"/v1/submissions/[^/]+/attachments/[^/]+", "lost"))
    with pytest.raises(PortalUnavailable):
        await backend.submit("fit_testantrag", DATA, "key-x")
    double.submissions.clear()  # FIT-Connect deletes unsent submissions after a while
    with pytest.raises(PortalUnavailable):
        await backend.submit("fit_testantrag", DATA, "key-x")
    receipt = await backend.submit("fit_testantrag", DATA, "key-x")
    assert double.summary()["submitted"] == 1 and _announces(double) == 2
    assert receipt.case_number == next(iter(double.submissions.values())).case_id
