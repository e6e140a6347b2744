"""Who may call the portal backend (issue 13, item 2): service tokens per role, the citizen only
from a signed assertion, receipts only through their own signed link, and no receipt token in
the access log. Every attack here succeeded against the backend before it had authentication."""

from __future__ import annotations

import logging

import jwt
import pytest
from aiohttp.test_utils import TestClient, TestServer
from support.portal_auth import API_TOKEN, AUTHORITY, AUTHORITY_TOKEN, CITIZEN_KEY, bearer, citizen

from buergerassistent import citizen_assertion, signing
from portal_backend.app import AccessLogger, ConfigurationError, Credentials, create_app

APPLICATIONS = "/api/v1/applications"
BPK = "bPK2:ZmFrZS1icGsy"
OTHER = "bPK2:b3RoZXItY2l0aXplbg"


async def _case(api, payload, **overrides) -> str:
    reply = await api.submit(payload(**overrides))
    assert reply.status == 201, reply.body
    return reply.body["case_number"]


def _operations(case_number: str, body: dict) -> list[tuple[str, str, dict | None]]:
    return [
        ("POST", APPLICATIONS, body),
        ("GET", APPLICATIONS, None),
        ("GET", f"{APPLICATIONS}/{case_number}", None),
        ("GET", f"{APPLICATIONS}/{case_number}/history", None),
        ("POST", f"{APPLICATIONS}/{case_number}/status", {"status": "abgelehnt", "note": "x"}),
        ("POST", f"{APPLICATIONS}/{case_number}/withdrawal", {}),
        ("GET", "/api/v1/postbox", None),
    ]


@pytest.mark.parametrize(
    "credentials",
    [
        pytest.param({}, id="none"),
        pytest.param(bearer("wrong-token-0123456789abcdef"), id="wrong-token"),
        pytest.param(bearer(API_TOKEN[:-1]), id="prefix-of-the-token"),
        pytest.param({"Authorization": API_TOKEN}, id="no-scheme"),
        pytest.param({"Authorization": f"Basic {API_TOKEN}"}, id="basic-scheme"),
        pytest.param(bearer(CITIZEN_KEY), id="the-citizen-key"),
    ],
)
async def test_every_api_operation_needs_a_service_token(api, payload, credentials):
    case_number = await _case(api, payload, citizen=BPK)
    intruder = api.anonymous
    for method, path, body in _operations(case_number, payload(key="intruder")):
        headers = {**credentials, **citizen(BPK), "X-Citizen": BPK}
        reply = await intruder.request(method, path, json=body, headers=headers)
        assert reply.status == 401, (method, path, reply.body)
        assert reply.body["error"] == "unauthorized" and reply.body["message"]
        assert reply.headers["WWW-Authenticate"].startswith("Bearer")
        assert "Erika" not in str(reply.body) and BPK not in str(reply.body)
    # Nothing was created or changed.
    assert await api.count() == 1
    assert (await api.authority.get(f"{APPLICATIONS}/{case_number}")).body["status"] == "eingegangen"


async def test_public_routes_need_no_token(api):
    assert (await api.anonymous.get("/health")).status == 200
    assert (await api.anonymous.get("/openapi.yaml")).status == 200


async def test_the_assistant_cannot_change_a_status(api, payload):
    case_number = await _case(api, payload)
    reply = await api.post(
        f"{APPLICATIONS}/{case_number}/status", json={"status": "abgelehnt", "note": "Siehe https://example.org"}
    )
    assert reply.status == 403 and reply.body["error"] == "forbidden"
    history = (await api.get(f"{APPLICATIONS}/{case_number}/history")).body
    assert [h["status"] for h in history["history"]] == ["eingegangen"]


async def test_the_assistant_cannot_read_an_application_by_its_case_number(api, payload):
    # A case number alone must not open the form data to the assistant's token (it never needs it).
    case_number = await _case(api, payload, citizen=BPK)
    reply = await api.get(f"{APPLICATIONS}/{case_number}", headers=citizen(BPK))
    assert reply.status == 403 and reply.body["error"] == "forbidden"
    assert "Erika" not in str(reply.body)
    assert (await api.get(f"{APPLICATIONS}/{case_number}/history")).status == 200


async def test_the_authority_changes_statuses_and_reads_but_acts_for_no_citizen(api, payload):
    case_number = await _case(api, payload, citizen=BPK)
    authority = api.authority
    changed = await authority.post(f"{APPLICATIONS}/{case_number}/status", json={"status": "in_bearbeitung"})
    assert changed.status == 200 and changed.body["status"] == "in_bearbeitung"
    assert (await authority.get(f"{APPLICATIONS}/{case_number}")).status == 200
    assert (await authority.get(f"{APPLICATIONS}/{case_number}/history")).status == 200
    # ... but it submits nothing, and reads no citizen's list or postbox, even with an assertion.
    created = await authority.submit(payload(key="by-authority"))
    assert created.status == 403 and created.body["error"] == "forbidden"
    assert await api.count() == 1
    for path in (APPLICATIONS, "/api/v1/postbox"):
        reply = await authority.get(path, headers=citizen(BPK))
        assert reply.status == 403 and reply.body["error"] == "forbidden"
    withdrawal = await authority.post(f"{APPLICATIONS}/{case_number}/withdrawal", json={}, headers=citizen(BPK))
    assert withdrawal.status == 403


async def test_x_citizen_header_alone_has_no_effect(api, payload):
    await _case(api, payload, citizen=BPK)
    for path in (APPLICATIONS, "/api/v1/postbox"):
        reply = await api.get(path, headers={"X-Citizen": BPK})
        assert reply.status == 400 and reply.body["error"] == "citizen_required"
        assert BPK not in str(reply.body)
    # Nor does it let the service create an application in a citizen's name.
    forged = await api.submit(payload(key="in-her-name", citizen=BPK), headers={"X-Citizen": BPK})
    assert forged.status == 403 and forged.body["error"] == "citizen_unverified"
    assert await api.count() == 1


def _bad_assertions() -> dict[str, str]:
    import time

    now = int(time.time())
    key = CITIZEN_KEY.encode()
    return {
        "other-key": citizen_assertion.issue(BPK, b"x" * 40),
        # Whoever holds only the service token cannot make one.
        "service-token-as-key": citizen_assertion.issue(BPK, API_TOKEN.encode()),
        "expired": jwt.encode(
            {"sub": BPK, "aud": "portal-citizen", "iat": now - 100, "exp": now - 10}, key, algorithm="HS256"
        ),
        "too-long-lived": jwt.encode(
            {"sub": BPK, "aud": "portal-citizen", "iat": now, "exp": now + 86400}, key, algorithm="HS256"
        ),
        "no-expiry": jwt.encode({"sub": BPK, "aud": "portal-citizen", "iat": now}, key, algorithm="HS256"),
        "other-purpose": signing.sign({"sub": BPK}, "receipt", 60, key=key),
        "unsigned": jwt.encode(
            {"sub": BPK, "aud": "portal-citizen", "iat": now, "exp": now + 60}, None, algorithm="none"
        ),
        "plain-bpk2": BPK,
    }


@pytest.mark.parametrize("kind", list(_bad_assertions()))
async def test_invalid_citizen_assertions_yield_no_data(api, payload, kind):
    await _case(api, payload, citizen=BPK)
    header = {citizen_assertion.HEADER: _bad_assertions()[kind]}
    for path in (APPLICATIONS, "/api/v1/postbox"):
        reply = await api.get(path, headers=header)
        assert reply.status == 403 and reply.body["error"] == "citizen_unverified", (path, reply.body)
    created = await api.submit(payload(key=f"forged-{kind}", citizen=BPK), headers=header)
    assert created.status == 403
    assert await api.count() == 1


async def test_an_assertion_for_another_citizen_shows_only_that_citizens_data(make_api, payload, test_catalogue):
    import dataclasses

    from buergerassistent.catalogue import Catalogue

    proc = test_catalogue.get("meldebescheinigung")
    api = await make_api(
        catalogue=Catalogue([*test_catalogue, dataclasses.replace(proc, id="widerruflich", withdrawable=True)])
    )
    case_number = await _case(api, payload, citizen=BPK, procedure="widerruflich")
    for path, key in ((APPLICATIONS, "applications"), ("/api/v1/postbox", "messages")):
        reply = await api.get(path, headers=citizen(OTHER))
        assert reply.status == 200 and reply.body == {key: []}
    # Creating in her name with his assertion, or withdrawing hers with his, is refused.
    created = await api.submit(payload(key="his", citizen=BPK), headers=citizen(OTHER))
    assert created.status == 403 and created.body["error"] == "citizen_unverified"
    withdrawal = await api.post(f"{APPLICATIONS}/{case_number}/withdrawal", json={}, headers=citizen(OTHER))
    assert withdrawal.status == 403
    assert (
        await api.post(f"{APPLICATIONS}/{case_number}/withdrawal", json={}, headers={"X-Citizen": BPK})
    ).status == 403
    assert (await api.authority.get(f"{APPLICATIONS}/{case_number}")).body["status"] == "eingegangen"


async def test_receipts_only_through_their_own_signed_route(api, payload, secret):
    case_number = await _case(api, payload)
    token = signing.sign({"cn": case_number}, "receipt", 60)
    async with api.client.get(f"/receipts/{token}") as resp:  # no service token needed
        assert resp.status == 200 and resp.content_type == "application/pdf"
    # The old place under the API is gone; the API itself never serves a receipt.
    assert (await api.anonymous.get(f"/api/v1/receipts/{token}", check=False)).status == 401
    assert (await api.get(f"/api/v1/receipts/{token}", check=False)).status == 404


async def test_receipt_tokens_never_reach_the_access_log(app_factory, payload, secret, caplog):
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    # The access logger portal_backend/__main__.py runs the backend with.
    server = TestServer(app_factory())
    await server.start_server(access_log_class=AccessLogger)
    client = TestClient(server)
    await client.start_server()
    try:
        async with client.post(APPLICATIONS, json=payload(), headers=bearer(API_TOKEN)) as resp:
            case_number = (await resp.json())["case_number"]
        token = signing.sign({"cn": case_number}, "receipt", 60)
        async with client.get(f"/receipts/{token}") as resp:
            assert resp.status == 200
        async with client.get(f"/receipts/{token}x") as resp:
            assert resp.status == 403
    finally:
        await client.close()
    access = "\n".join(r.getMessage() for r in caplog.records if r.name == "aiohttp.access")
    assert '"GET /receipts/*** HTTP/1.1" 200' in access
    assert '"POST /api/v1/applications HTTP/1.1" 201' in access
    for part in token.split("."):
        assert part not in caplog.text
    assert API_TOKEN not in caplog.text


def test_the_backend_refuses_to_start_without_credentials(monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path}/portal.db"
    for name in ("PORTAL_API_TOKEN", "PORTAL_AUTHORITY_TOKEN", "PORTAL_CITIZEN_KEY"):
        with monkeypatch.context() as m:
            m.delenv(name)
            with pytest.raises(ConfigurationError, match=name):
                create_app(url)
    with pytest.raises(ConfigurationError, match="differ"):
        Credentials(API_TOKEN, API_TOKEN, CITIZEN_KEY)
    with pytest.raises(ConfigurationError, match="PORTAL_API_TOKEN"):
        Credentials("short", AUTHORITY_TOKEN, CITIZEN_KEY)
    with pytest.raises(ConfigurationError, match="PORTAL_CITIZEN_KEY"):
        Credentials(API_TOKEN, AUTHORITY_TOKEN, "short-key")


def test_roles_of_tokens():
    creds = Credentials(API_TOKEN, AUTHORITY_TOKEN, CITIZEN_KEY)
    assert creds.role_of(f"Bearer {API_TOKEN}") == "assistant"
    assert creds.role_of(f"bearer  {AUTHORITY_TOKEN} ") == "authority"
    assert AUTHORITY == bearer(AUTHORITY_TOKEN)
    for header in ("", "Bearer", "Bearer ", f"Bearer {API_TOKEN}x", f"Token {API_TOKEN}"):
        assert creds.role_of(header) is None


async def test_protection_follows_the_route_not_the_spelling_of_the_path(app_factory, payload):
    from aiohttp import web

    app = app_factory()

    async def unmarked(request):  # a route someone adds later and forgets to mark
        return web.json_response({"secret": True})

    app.router.add_get("/api/v1/unmarked", unmarked)
    app.router.add_get("/internal/unmarked", unmarked)
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        for path in ("/api/v1/unmarked", "/internal/unmarked"):
            async with client.get(path) as resp:
                assert resp.status == 401
            async with client.get(path, headers=bearer(API_TOKEN)) as resp:
                assert resp.status == 403  # no role was granted
        async with client.post(APPLICATIONS, json=payload(), headers=bearer(API_TOKEN)) as resp:
            case_number = (await resp.json())["case_number"]
        from yarl import URL

        for spelled in (
            f"/%61pi/v1/applications/{case_number}",
            f"/api/v1//applications/{case_number}",
            f"/api/v1/applications/{case_number}/",
            f"/API/v1/applications/{case_number}",
        ):
            async with client.get(URL(spelled, encoded=True)) as resp:
                assert resp.status in (401, 404), spelled
                assert "Erika" not in await resp.text()
    finally:
        await client.close()
