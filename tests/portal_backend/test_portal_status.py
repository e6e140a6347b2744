"""Status history, list by citizen, postbox, withdrawal, receipts and fault injection of the
reference backend (SQLite, and PostgreSQL with DATABASE_URL); responses checked against
openapi.yaml by the ``api`` fixture."""

from __future__ import annotations

import dataclasses

import pytest
from support.portal_auth import citizen

from buergerassistent import signing
from buergerassistent.catalogue import PROCEDURES_DIR, Catalogue, load_file

pytestmark = pytest.mark.asyncio

APPLICATIONS = "/api/v1/applications"
BPK = "bPK2:ZmFrZS1icGsy"


async def test_history_starts_with_received_and_grows(api, payload):
    case_number = (await api.submit(payload())).body["case_number"]
    first = await api.get(f"{APPLICATIONS}/{case_number}/history")
    assert first.status == 200
    assert [h["status"] for h in first.body["history"]] == ["eingegangen"]

    changed = await api.authority.post(
        f"{APPLICATIONS}/{case_number}/status", json={"status": "in_bearbeitung", "note": "Wird geprüft."}
    )
    assert changed.status == 200 and changed.body["status"] == "in_bearbeitung"
    done = await api.authority.post(f"{APPLICATIONS}/{case_number}/status", json={"status": "abgeschlossen"})
    assert done.status == 200
    history = (await api.get(f"{APPLICATIONS}/{case_number}/history")).body
    assert [h["status"] for h in history["history"]] == ["eingegangen", "in_bearbeitung", "abgeschlossen"]
    assert history["history"][1]["note"] == "Wird geprüft."
    assert history["status"] == "abgeschlossen"

    # A decided application stays decided.
    again = await api.authority.post(f"{APPLICATIONS}/{case_number}/status", json={"status": "in_bearbeitung"})
    assert again.status == 409 and again.body["error"] == "status_final"


async def test_status_change_is_validated(api, payload):
    case_number = (await api.submit(payload())).body["case_number"]
    bad = await api.authority.post(f"{APPLICATIONS}/{case_number}/status", json={"status": "zurueckgezogen"})
    assert bad.status == 422 and "status" in bad.body["fields"]
    missing = await api.authority.post(f"{APPLICATIONS}/BA-2026-ZZZZZZZZ/status", json={"status": "abgelehnt"})
    assert missing.status == 404
    unknown = await api.get(f"{APPLICATIONS}/BA-2026-ZZZZZZZZ/history")
    assert unknown.status == 404


async def test_list_by_citizen_only_returns_theirs(api, payload):
    mine = [(await api.submit(payload(citizen=BPK))).body["case_number"] for _ in range(2)]
    await api.submit(payload(citizen="bPK2:other"))
    await api.submit(payload())
    listed = await api.get(APPLICATIONS, headers=citizen(BPK))
    assert listed.status == 200
    assert sorted(a["case_number"] for a in listed.body["applications"]) == sorted(mine)
    assert (await api.get(APPLICATIONS, headers=citizen("bPK2:nobody"))).body == {"applications": []}
    missing = await api.get(APPLICATIONS)
    assert missing.status == 400 and missing.body["error"] == "citizen_required"


async def test_postbox_holds_receipt_and_status_notices(api, payload):
    case_number = (await api.submit(payload(citizen=BPK))).body["case_number"]
    await api.authority.post(f"{APPLICATIONS}/{case_number}/status", json={"status": "in_bearbeitung"})
    box = await api.get("/api/v1/postbox", headers=citizen(BPK))
    assert box.status == 200
    subjects = [m["subject"] for m in box.body["messages"]]
    assert subjects == [f"Neuer Stand zu {case_number}", f"Eingangsbestätigung {case_number}"]
    assert "Meldebescheinigung" in box.body["messages"][1]["body"]
    assert (await api.get("/api/v1/postbox", headers=citizen("bPK2:other"))).body == {"messages": []}
    # A replayed submission writes no second receipt notice.
    await api.submit(payload(key="replay", citizen=BPK))
    await api.submit(payload(key="replay", citizen=BPK))
    box = await api.get("/api/v1/postbox", headers=citizen(BPK))
    assert len(box.body["messages"]) == 3


@pytest.fixture
def withdrawable_api(make_api, test_catalogue):
    shipped = load_file(PROCEDURES_DIR / "meldebescheinigung.yaml")
    catalogue = Catalogue([*test_catalogue, dataclasses.replace(shipped, id="widerruflich", withdrawable=True)])

    async def make():
        return await make_api(catalogue=catalogue)

    return make


async def test_withdrawal_needs_a_withdrawable_procedure_and_proof(withdrawable_api, payload):
    api = await withdrawable_api()
    # Not withdrawable (the shipped entry has no `withdrawable: true`).
    fixed = await api.submit(payload(key="k-fixed"))
    refused = await api.post(
        f"{APPLICATIONS}/{fixed.body['case_number']}/withdrawal", json={"idempotency_key": "k-fixed"}
    )
    assert refused.status == 409 and refused.body["error"] == "not_withdrawable"

    anonymous = (await api.submit(payload(key="k-anon", procedure="widerruflich"))).body["case_number"]
    wrong_key = await api.post(f"{APPLICATIONS}/{anonymous}/withdrawal", json={"idempotency_key": "guess"})
    assert wrong_key.status == 403
    ok = await api.post(f"{APPLICATIONS}/{anonymous}/withdrawal", json={"idempotency_key": "k-anon"})
    assert ok.status == 200 and ok.body["status"] == "zurueckgezogen"
    twice = await api.post(f"{APPLICATIONS}/{anonymous}/withdrawal", json={"idempotency_key": "k-anon"})
    assert twice.status == 409 and twice.body["error"] == "status_final"

    theirs = (await api.submit(payload(key="k-cit", procedure="widerruflich", citizen=BPK))).body["case_number"]
    # For a logged-in submission the key alone is not enough: the citizen must match.
    assert (
        await api.post(
            f"{APPLICATIONS}/{theirs}/withdrawal", json={"idempotency_key": "k-cit"}, headers=citizen("bPK2:other")
        )
    ).status == 403
    done = await api.post(f"{APPLICATIONS}/{theirs}/withdrawal", json={}, headers=citizen(BPK))
    assert done.status == 200


async def test_receipt_pdf_behind_a_signed_link(api, payload, secret):
    case_number = (await api.submit(payload())).body["case_number"]
    token = signing.sign({"cn": case_number}, "receipt", 60)
    async with api.client.get(f"/receipts/{token}") as resp:
        assert resp.status == 200 and resp.content_type == "application/pdf"
        assert (await resp.read()).startswith(b"%PDF")
    expired = signing.sign({"cn": case_number}, "receipt", -10)
    other_purpose = signing.sign({"cn": case_number}, "login", 60)
    forged = signing.sign({"cn": case_number}, "receipt", 60, key=b"not-our-key-0123456789abcdefghijklmnopqr")
    for bad in (expired, other_purpose, forged):
        reply = await api.get(f"/receipts/{bad}")
        assert reply.status == 403 and reply.body["error"] == "invalid_link"


async def test_receipt_link_for_a_citizen_opens_only_their_application(api, payload, secret):
    import hashlib

    case_number = (await api.submit(payload(citizen=BPK))).body["case_number"]
    digest = hashlib.sha256(BPK.encode()).hexdigest()
    good = signing.sign({"cn": case_number, "cit": digest}, "receipt", 60)
    wrong = signing.sign({"cn": case_number, "cit": hashlib.sha256(b"x").hexdigest()}, "receipt", 60)
    async with api.client.get(f"/receipts/{good}") as resp:
        assert resp.status == 200
    assert (await api.get(f"/receipts/{wrong}")).status == 403


async def test_fault_injection_is_off_by_default_and_answers_503_when_on(make_api, payload):
    api = await make_api()
    assert all([(await api.submit(payload())).status == 201 for _ in range(20)])
    faulty = await make_api(fault_503_rate=1.0)
    reply = await faulty.submit(payload(key="faulty"))
    assert reply.status == 503 and reply.body["error"] == "fault_injected"
    health = await faulty.get("/health")
    assert health.status == 200  # the health check stays honest
