"""HTTP API of the portal backend, on SQLite and (with DATABASE_URL) PostgreSQL.

Every response is also checked against openapi.yaml by the ``api`` fixture.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine

from portal_backend import case_numbers
from portal_backend.app import STORE

pytestmark = pytest.mark.asyncio

APPLICATIONS = "/api/v1/applications"


def _parse_utc(value: str) -> datetime:
    assert value.endswith("Z"), value
    parsed = datetime.fromisoformat(value[:-1] + "+00:00")
    assert parsed.utcoffset() == timedelta(0)
    return parsed


# --------------------------------------------------------------------------- create / get


async def test_create_and_get_round_trip(api, payload):
    before = datetime.now(timezone.utc).replace(microsecond=0)
    body = payload()
    created = await api.submit(body)

    assert created.status == 201
    application = created.body
    assert case_numbers.PATTERN.match(application["case_number"])
    assert application["case_number"][3:7] == str(before.year) or before.month == 12
    assert application["procedure"] == "meldebescheinigung"
    assert application["status"] == "eingegangen"
    assert application["data"] == body["data"]
    assert application["citizen"] is None
    received = _parse_utc(application["received_at"])
    assert before <= received <= datetime.now(timezone.utc) + timedelta(seconds=1)
    assert created.headers["Location"] == f"{APPLICATIONS}/{application['case_number']}"

    fetched = await api.authority.get(f"{APPLICATIONS}/{application['case_number']}")
    assert fetched.status == 200
    assert fetched.body == application


async def test_get_accepts_lower_case_and_lookalikes(api, payload):
    case_number = (await api.submit(payload())).body["case_number"]
    typed = case_number.lower().replace("0", "o").replace("1", "l")
    fetched = await api.authority.get(f"{APPLICATIONS}/{typed}")
    assert fetched.status == 200
    assert fetched.body["case_number"] == case_number


async def test_citizen_is_stored(api, payload):
    created = await api.submit(payload(citizen="bPK2:ZmFrZS1icGsy"))
    assert created.status == 201
    assert created.body["citizen"] == "bPK2:ZmFrZS1icGsy"
    fetched = await api.authority.get(f"{APPLICATIONS}/{created.body['case_number']}")
    assert fetched.body["citizen"] == "bPK2:ZmFrZS1icGsy"


async def test_optional_fields_may_be_omitted_or_null(api):
    omitted = await api.submit({"procedure": "testantrag", "data": {"titel": "A"}, "idempotency_key": "k-omitted"})
    assert omitted.status == 201
    assert omitted.body["data"] == {"titel": "A"}
    null = await api.submit(
        {
            "procedure": "testantrag",
            "data": {"titel": "A", "bemerkung": None, "zustellung": None},
            "idempotency_key": "k-null",
        }
    )
    assert null.status == 201
    assert null.body["data"] == {"titel": "A", "bemerkung": None, "zustellung": None}


async def test_unicode_and_max_length_values_round_trip(api, payload):
    body = payload()
    body["data"]["nachname"] = "Müller-Lüdenscheidt ẞ 😀"
    body["data"]["strasse"] = "x" * 500
    created = await api.submit(body)
    assert created.status == 201
    fetched = await api.authority.get(f"{APPLICATIONS}/{created.body['case_number']}")
    assert fetched.body["data"] == body["data"]


async def test_case_numbers_are_distinct(api, payload):
    numbers = {(await api.submit(payload())).body["case_number"] for _ in range(5)}
    assert len(numbers) == 5
    assert await api.count() == 5


# --------------------------------------------------------------------------- idempotency


async def test_same_key_twice_returns_first_application(api, payload):
    body = payload(key="chat-session-42-submit")
    first = await api.submit(body)
    second = await api.submit(body)
    assert (first.status, second.status) == (201, 200)
    assert second.body == first.body
    assert second.headers["Location"] == first.headers["Location"]
    assert await api.count() == 1


async def test_key_order_in_body_does_not_matter(api, payload):
    body = payload(key="reordered")
    first = await api.submit(body)
    reordered = {
        "idempotency_key": body["idempotency_key"],
        "data": dict(reversed(list(body["data"].items()))),
        "procedure": body["procedure"],
    }
    second = await api.submit(reordered)
    assert (first.status, second.status) == (201, 200)
    assert second.body["case_number"] == first.body["case_number"]


async def test_concurrent_duplicates_store_one_application(api, payload):
    body = payload(key="double-click")
    replies = await asyncio.gather(*(api.submit(body) for _ in range(8)))
    statuses = sorted(r.status for r in replies)
    assert statuses == [200] * 7 + [201]
    assert len({r.body["case_number"] for r in replies}) == 1
    assert await api.count() == 1


async def test_concurrent_distinct_keys_all_stored(api, payload):
    replies = await asyncio.gather(*(api.submit(payload()) for _ in range(8)))
    assert [r.status for r in replies] == [201] * 8
    assert len({r.body["case_number"] for r in replies}) == 8
    assert await api.count() == 8


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda b: b["data"].update(vorname="Max"), id="other-data"),
        pytest.param(lambda b: b["data"].pop("email"), id="missing-field"),
        pytest.param(lambda b: b.update(citizen="bPK2:andere"), id="other-citizen"),
        pytest.param(lambda b: b.update(procedure="testantrag", data={"titel": "A"}), id="other-procedure"),
    ],
)
async def test_same_key_different_body_is_conflict(api, payload, change):
    body = payload(key="reused-key")
    first = await api.submit(body)
    assert first.status == 201
    changed = payload(key="reused-key")
    change(changed)
    conflict = await api.submit(changed)
    assert conflict.status == 409
    assert conflict.body["error"] == "idempotency_conflict"
    assert "idempotency_key" in conflict.body["fields"]
    assert await api.count() == 1
    # the original request is still answered with the original application
    again = await api.submit(body)
    assert again.status == 200 and again.body == first.body


async def test_concurrent_conflicting_bodies_store_one_application(api, payload):
    bodies = []
    for name in ["Anna", "Berta", "Clara", "Dora"]:
        body = payload(key="contested")
        body["data"]["vorname"] = name
        bodies.append(body)
    replies = await asyncio.gather(*(api.submit(b) for b in bodies))
    assert sorted(r.status for r in replies) == [201, 409, 409, 409]
    assert await api.count() == 1


async def test_case_number_collision_is_retried(make_api, payload):
    numbers = iter(["BA-2026-AAAAAAAA", "BA-2026-AAAAAAAA", "BA-2026-AAAAAAAA", "BA-2026-BBBBBBBB"])
    api = await make_api(case_number_factory=lambda now: next(numbers))
    first = await api.submit(payload())
    second = await api.submit(payload())
    assert (first.status, second.status) == (201, 201)
    assert first.body["case_number"] == "BA-2026-AAAAAAAA"
    assert second.body["case_number"] == "BA-2026-BBBBBBBB"
    assert await api.count() == 2


async def test_case_number_exhaustion_is_500_without_details(make_api, payload):
    api = await make_api(case_number_factory=lambda now: "BA-2026-AAAAAAAA")
    assert (await api.submit(payload())).status == 201
    failed = await api.submit(payload())
    assert failed.status == 500
    assert failed.body["error"] == "internal_error"
    assert "Traceback" not in failed.body["message"]
    assert await api.count() == 1


# --------------------------------------------------------------------------- validation


async def test_missing_and_unknown_fields_are_named(api, payload):
    body = payload()
    del body["data"]["vorname"]
    del body["data"]["plz"]
    body["data"]["lieblingsfarbe"] = "blau"
    reply = await api.submit(body)
    assert reply.status == 422
    assert reply.body["error"] == "validation_failed"
    assert reply.body["fields"] == {
        "vorname": "Dieses Feld ist erforderlich.",
        "plz": "Dieses Feld ist erforderlich.",
        "lieblingsfarbe": "Unbekanntes Feld.",
    }
    assert await api.count() == 0


@pytest.mark.parametrize(
    "field, value, message_part",
    [
        ("vorname", "", "erforderlich"),
        ("vorname", "   ", "erforderlich"),
        ("vorname", None, "erforderlich"),
        ("vorname", 42, "Text"),
        ("vorname", ["Erika"], "Text"),
        ("vorname", {"x": 1}, "Text"),
        ("vorname", True, "Text"),
        ("strasse", "x" * 501, "500"),
        ("nachname", "Muster\x00mann", "Zeichen"),
        ("nachname", "Muster\x1bmann", "Zeichen"),
        ("nachname", "Muster\ud800mann", "Zeichen"),
        ("art_meldebescheinigung", "sehr ausführlich", "einfach, erweitert"),
        ("art_meldebescheinigung", "Einfach", "einfach, erweitert"),
    ],
)
async def test_bad_field_value(api, payload, field, value, message_part):
    body = payload()
    body["data"][field] = value
    reply = await api.submit(body)
    assert reply.status == 422
    assert reply.body["error"] == "validation_failed"
    assert list(reply.body["fields"]) == [field]
    assert message_part in reply.body["fields"][field]
    assert await api.count() == 0


async def test_optional_choice_is_checked(api):
    reply = await api.submit(
        {"procedure": "testantrag", "data": {"titel": "A", "zustellung": "fax"}, "idempotency_key": "k"}
    )
    assert reply.status == 422
    assert reply.body["fields"] == {"zustellung": "Ungültige Auswahl. Erlaubt: post, email."}


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda b: b.pop("idempotency_key"), "idempotency_key"),
        (lambda b: b.update(idempotency_key=""), "idempotency_key"),
        (lambda b: b.update(idempotency_key=7), "idempotency_key"),
        (lambda b: b.update(idempotency_key="k" * 201), "idempotency_key"),
        (lambda b: b.pop("procedure"), "procedure"),
        (lambda b: b.update(procedure=["meldebescheinigung"]), "procedure"),
        (lambda b: b.pop("data"), "data"),
        (lambda b: b.update(data=["Erika"]), "data"),
        (lambda b: b.update(data="vorname=Erika"), "data"),
        (lambda b: b.update(citizen=""), "citizen"),
        (lambda b: b.update(citizen=12345), "citizen"),
        (lambda b: b.update(status="erledigt"), "status"),
    ],
)
async def test_bad_envelope(api, payload, change, field):
    body = payload()
    change(body)
    reply = await api.submit(body)
    assert reply.status == 422
    assert reply.body["error"] == "validation_failed"
    assert list(reply.body["fields"]) == [field]
    assert await api.count() == 0


async def test_odd_unknown_keys_are_reported_not_500(api, payload):
    body = payload()
    body["data"]["\ud800"] = "x"
    body["\x00"] = "y"
    reply = await api.submit(body)
    assert reply.status == 422
    assert list(reply.body["fields"]) == ["\x00"]  # envelope first, then the form
    del body["\x00"]
    reply = await api.submit(body)
    assert reply.status == 422
    assert reply.body["fields"] == {"\ud800": "Unbekanntes Feld."}


async def test_unknown_procedure(api, payload):
    reply = await api.submit(payload(procedure="hundesteuer"))
    assert reply.status == 422
    assert reply.body["error"] == "unknown_procedure"
    assert list(reply.body["fields"]) == ["procedure"]
    assert reply.body["message"] == "Dieses Verfahren ist nicht bekannt."


async def test_procedure_without_form(api):
    reply = await api.submit({"procedure": "nur_info", "data": {}, "idempotency_key": "k"})
    assert reply.status == 422
    assert reply.body["error"] == "procedure_without_form"
    assert list(reply.body["fields"]) == ["procedure"]


async def test_default_catalogue_is_used(make_api, payload):
    api = await make_api(catalogue=None)  # create_app falls back to default_catalogue()
    assert (await api.submit(payload())).status == 201
    reply = await api.submit({"procedure": "testantrag", "data": {"titel": "A"}, "idempotency_key": "k"})
    assert reply.status == 422 and reply.body["error"] == "unknown_procedure"


# --------------------------------------------------------------------------- malformed requests


@pytest.mark.parametrize(
    "data, headers, error",
    [
        pytest.param(
            b'{"procedure": "meldebescheinigung",', {"Content-Type": "application/json"}, "invalid_json", id="truncated"
        ),
        pytest.param(b"", {"Content-Type": "application/json"}, "invalid_json", id="empty"),
        pytest.param(b"   ", {"Content-Type": "application/json"}, "invalid_json", id="blank"),
        pytest.param(b"[1, 2]", {"Content-Type": "application/json"}, "invalid_json", id="array"),
        pytest.param(b'"text"', {"Content-Type": "application/json"}, "invalid_json", id="string"),
        pytest.param(b"null", {"Content-Type": "application/json"}, "invalid_json", id="null"),
        pytest.param(b'{"a": NaN}', {"Content-Type": "application/json"}, "invalid_json", id="nan"),
        pytest.param(b'{"a": "\xff"}', {"Content-Type": "application/json"}, "invalid_json", id="not-utf8"),
        pytest.param(
            b"[" * 100000 + b"]" * 100000, {"Content-Type": "application/json"}, "invalid_json", id="deeply-nested"
        ),
        pytest.param(b'{"procedure": "x"}', {"Content-Type": "text/plain"}, "invalid_content_type", id="text-plain"),
        pytest.param(
            b"procedure=x", {"Content-Type": "application/x-www-form-urlencoded"}, "invalid_content_type", id="form"
        ),
        pytest.param(b'{"procedure": "x"}', {}, "invalid_content_type", id="no-content-type"),
    ],
)
async def test_malformed_request_is_400(api, data, headers, error):
    reply = await api.post(APPLICATIONS, data=data, headers=headers)
    assert reply.status == 400
    assert reply.content_type == "application/json"
    assert reply.body["error"] == error
    assert reply.body["fields"] == {}
    assert reply.body["message"].startswith(("Der Anfragetext", "Bitte senden"))


async def test_json_with_charset_is_accepted(api, payload):
    import json

    reply = await api.post(
        APPLICATIONS,
        data=json.dumps(payload()).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert reply.status == 201


async def test_too_large_body_is_413(api, payload):
    body = payload()
    body["data"]["vorname"] = "x" * (300 * 1024)
    reply = await api.submit(body)
    assert reply.status == 413
    assert reply.body["error"] == "payload_too_large"


# --------------------------------------------------------------------------- not found


@pytest.mark.parametrize("case_number", ["BA-2026-7F3K9Q2M", "BA-2026-UUUUUUUU", "nicht-vorhanden", "BA-20-1"])
async def test_unknown_case_number_is_404(api, payload, case_number):
    await api.submit(payload())
    reply = await api.authority.get(f"{APPLICATIONS}/{case_number}")
    assert reply.status == 404
    assert reply.body["error"] == "not_found"
    assert reply.body["message"] == "Es gibt keinen Antrag mit diesem Aktenzeichen."


async def test_unknown_route_and_method_are_json(api):
    missing = await api.get("/api/v2/nichts", check=False)
    assert missing.status == 404
    assert missing.body == {"error": "not_found", "message": "Diese Adresse gibt es nicht.", "fields": {}}
    wrong = await api.request("DELETE", f"{APPLICATIONS}/BA-2026-7F3K9Q2M", check=False)
    assert wrong.status == 405
    assert wrong.body["error"] == "method_not_allowed"
    assert "GET" in wrong.headers["Allow"]


# --------------------------------------------------------------------------- health, database down


async def test_health_ok(api):
    reply = await api.get("/health")
    assert reply.status == 200
    assert reply.body == {"status": "ok"}


def _break_database(api, tmp_path):
    """Points the running app at a database that cannot be opened."""
    store = api.app[STORE]
    store.engine.dispose()
    store.engine = create_engine(f"sqlite:///{tmp_path}/missing-folder/portal.db", future=True)


async def test_health_503_when_database_unreachable(api, tmp_path):
    _break_database(api, tmp_path)
    reply = await api.get("/health")
    assert reply.status == 503
    assert reply.body["error"] == "database_unavailable"


async def test_database_down_during_requests_is_503(api, payload, tmp_path):
    created = await api.submit(payload())
    _break_database(api, tmp_path)
    post = await api.submit(payload())
    assert post.status == 503 and post.body["error"] == "database_unavailable"
    get = await api.authority.get(f"{APPLICATIONS}/{created.body['case_number']}")
    assert get.status == 503 and get.body["error"] == "database_unavailable"


# --------------------------------------------------------------------------- logging, OpenAPI


async def test_logs_contain_no_application_data(api, payload, caplog):
    caplog.set_level(logging.DEBUG)
    body = payload(citizen="bPK2:GEHEIM-CITIZEN")
    body["data"].update(vorname="Geheimvorname", email="geheim@example.org")
    created = await api.submit(body)
    await api.submit(body)
    conflicting = payload(key=body["idempotency_key"], citizen="bPK2:GEHEIM-CITIZEN")
    conflicting["data"]["nachname"] = "Geheimnachname"
    await api.submit(conflicting)
    invalid = payload(citizen="bPK2:GEHEIM-CITIZEN")
    invalid["data"]["art_meldebescheinigung"] = "Geheimauswahl"
    await api.submit(invalid)
    assert created.body["case_number"] in caplog.text  # the requests are logged ...
    for secret in ["Geheim", "geheim@", "GEHEIM", "Mustermann", "80331"]:
        assert secret not in caplog.text  # ... but without personal data


async def test_openapi_document_is_served(api, openapi):
    import yaml

    reply = await api.get("/openapi.yaml")
    assert reply.status == 200
    assert reply.content_type == "application/yaml"
    assert yaml.safe_load(reply.body) == openapi.document
