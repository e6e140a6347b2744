"""Malformed input against every HTTP endpoint we serve, on the real processes of the e2e stack.

Property-based (hypothesis; schemathesis generates the portal API's requests from
``portal_backend/openapi.yaml``): whatever a client sends, no endpoint answers with a server
error, every process stays up, and none of the personal data the requests carried appears in the
log files afterwards. The examples are bounded (``max_examples``) so the suite stays fast; a
failure prints the request hypothesis shrank it to.
"""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.security import (
    PII,
    assert_no_pii_in_logs,
    portal_headers,
    rest_headers,
    webchat_session_token,
)

from portal_backend.app import OPENAPI_PATH

pytestmark = pytest.mark.e2e

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)

# Text that looks like what citizens send, with the personal data we later look for in the logs.
pii_text = st.sampled_from(list(PII.values()))
any_text = st.one_of(
    st.text(max_size=300), pii_text, st.builds(lambda a, b: f"{a} {b}", pii_text, st.text(max_size=40))
)
json_scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), any_text)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=12,
)


def _no_server_error(response: requests.Response) -> None:
    assert response.status_code < 500, f"{response.status_code}: {response.text[:300]}"


# --- Rasa: REST webhook -----------------------------------------------------------------------

rest_bodies = st.one_of(
    json_value.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"sender": json_value, "message": json_value}).map(lambda d: json.dumps(d).encode()),
    st.fixed_dictionaries(
        {"sender": st.text(min_size=1, max_size=40), "message": any_text}, optional={"metadata": json_value}
    ).map(lambda d: json.dumps(d).encode()),
    st.binary(max_size=200),
)


@FUZZ
@given(
    body=rest_bodies,
    content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded"]),
)
def test_rest_webhook_survives_malformed_bodies(stack, body, content_type):
    response = requests.post(
        f"{stack.settings.rasa_url}/webhooks/rest/webhook",
        data=body,
        headers={"Content-Type": content_type, **rest_headers(stack)},
        timeout=60,
    )
    _no_server_error(response)


# --- Rasa: web chat upload --------------------------------------------------------------------


@FUZZ
@given(
    body=st.one_of(
        st.binary(max_size=2000), pii_text.map(str.encode), st.just(b"%PDF-1.4\n" + PII["name"].encode() + b"\n%%EOF")
    ),
    name=any_text,
    authorised=st.booleans(),
    declared_length=st.one_of(st.none(), st.sampled_from(["-1", "abc", "99999999999999999999", "0"])),
)
def test_webchat_upload_survives_malformed_requests(stack, body, name, authorised, declared_length):
    headers = {"X-File-Name": urllib.parse.quote(name)}
    if authorised:
        headers["Authorization"] = f"Bearer {webchat_session_token(stack)}"
    else:
        # Raw bytes: any UTF-8 a client may put in a header, not only Latin-1.
        headers["Authorization"] = b"Bearer " + name[:60].encode()
    if declared_length is not None:
        headers["Content-Length"] = declared_length
    try:
        response = requests.post(
            f"{stack.settings.rasa_url}/webhooks/webchat/upload", data=body, headers=headers, timeout=60
        )
    except requests.exceptions.ConnectionError:
        # An impossible Content-Length is refused by the HTTP layer before any handler runs.
        assert declared_length is not None
        return
    _no_server_error(response)


# --- login service ----------------------------------------------------------------------------


def _login_url(stack) -> str:
    service = stack.service("login")
    return service.health_url.rsplit("/health", 1)[0]


def ticket_route(route: str):
    """GET /login/<route>/<conversation>?ticket=… with any conversation and ticket."""
    path = st.builds(
        lambda c, t: f"/login/{route}/{urllib.parse.quote(c, safe='')}?ticket={urllib.parse.quote(t)}",
        st.text(min_size=1, max_size=40),
        any_text,
    )
    return st.tuples(st.just("GET"), path, st.none())


login_requests = st.one_of(
    ticket_route("start"),
    ticket_route("logout"),
    st.tuples(
        st.just("GET"),
        st.builds(
            lambda s, c, e: (
                "/login/oidc/callback?"
                + urllib.parse.urlencode(
                    {k: v for k, v in {"state": s, "code": c, "error": e}.items() if v is not None}
                )
            ),
            any_text,
            any_text,
            st.one_of(st.none(), any_text),
        ),
        st.none(),
    ),
    st.tuples(
        st.just("POST"),
        st.just("/login/saml/acs"),
        st.dictionaries(
            st.sampled_from(["SAMLResponse", "RelayState", "x"]),
            st.one_of(any_text, st.binary(max_size=80).map(lambda b: __import__("base64").b64encode(b).decode())),
            max_size=3,
        ),
    ),
    st.tuples(st.just("GET"), st.just("/login/saml/metadata"), st.none()),
)


@FUZZ
@given(req=login_requests)
def test_login_routes_survive_malformed_requests(stack, req):
    method, path, form = req
    response = requests.request(method, _login_url(stack) + path, data=form, timeout=60, allow_redirects=False)
    _no_server_error(response)


# --- portal backend: every operation of openapi.yaml --------------------------------------------

schema = schemathesis.openapi.from_path(OPENAPI_PATH)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_portal_api_survives_generated_requests(case, stack):
    for role in ("assistant", "authority", None):
        response = case.call(base_url=stack.settings.portal_url, headers=portal_headers(stack, role), timeout=60)
        _no_server_error(response)


# --- afterwards -------------------------------------------------------------------------------


def test_every_process_still_healthy_after_fuzzing(stack):
    for service in stack.services:
        assert service.healthy(), f"{service.name} antwortet nach dem Fuzzing nicht mehr"


def test_no_personal_data_in_logs_after_fuzzing(stack):
    assert_no_pii_in_logs(Path(stack.settings.var_dir) / "logs")
