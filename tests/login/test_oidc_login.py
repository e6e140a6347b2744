"""OIDC login (code flow + PKCE, state, nonce) against the npm package ``oidc-provider``,
started by the tests, through the login service's HTTP routes (Rasa: the recorder stand-in)."""

from __future__ import annotations

import html
import re
import uuid
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from buergerassistent import identity as ids

from .conftest import confirm, form_of, nothing_logged, text_of


def conv() -> str:
    return f"oidc-{uuid.uuid4().hex[:10]}"


@pytest.fixture(autouse=True)
def no_personal_data_in_logs(caplog):
    with nothing_logged(caplog, ("Erika", "Mustermann", "1964-08-12", "Heidestraße")):
        yield


def to_provider(world, conversation: str, level: str):
    session = requests.Session()
    start = session.get(world.link(conversation, level) + "&protocol=oidc", allow_redirects=False, timeout=30)
    # A page first (which chat, the warning), then the citizen follows the link to the provider.
    assert start.status_code == 200, start.text
    assert ids.chat_label(conversation) in start.text
    match = re.search(r'<a id="continue" href="([^"]+)"', start.text)
    authorize = html.unescape(match.group(1))
    query = parse_qs(urlparse(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["nonce"][0] and query["state"][0]
    assert world.settings.oidc_scope_for(level) in query["scope"][0].split()
    login_page = session.get(authorize, timeout=30)
    assert login_page.status_code == 200, login_page.text
    return session, login_page, query["state"][0]


def login(world, conversation: str, level: str, username: str, password: str, action: str = "login"):
    session, login_page, state = to_provider(world, conversation, level)
    form = form_of(login_page)
    # The provider redirects back to our callback; requests follows through to our page.
    back = session.post(form.action, data={"username": username, "password": password, "action": action}, timeout=60)
    return session, back, state


def test_login_substantiell_via_acr(world):
    conversation = conv()
    _, page, _ = login(world, conversation, "substantiell", "erika3", "geheim-3")
    assert page.status_code == 200 and "Code in Ihrem Chat ein" in page.text
    assert ids.current_identity(conversation) is None
    confirm(conversation, page)
    ident = ids.current_identity(conversation)
    assert (ident.level, ident.source, ident.subject) == ("substantiell", "oidc", "erika3")
    assert ident.attributes["given_name"] == "Erika" and ident.attributes["street"] == "Heidestraße 17"
    assert ident.attributes["birth_date"] == "1964-08-12"
    assert not [c for c in world.recorder.calls if c["conversation"] == conversation]


def test_level_lower_than_requested_is_refused(world):
    conversation = conv()
    _, page, _ = login(world, conversation, "hoch", "erika3", "geheim-3")
    assert page.status_code == 403 and "Vertrauensniveau" in text_of(page)
    assert ids.current_identity(conversation) is None
    world.recorder.wait_for(conversation)
    assert ids.pop_outcome(conversation)["level_achieved"] == "substantiell"


def test_cancel_is_reported(world):
    conversation = conv()
    _, page, _ = login(world, conversation, "substantiell", "", "", action="cancel")
    assert page.status_code == 403 and "abgebrochen" in text_of(page)
    world.recorder.wait_for(conversation)


def test_replayed_callback_and_unknown_state_are_refused(world):
    conversation = conv()
    session, login_page, state = to_provider(world, conversation, "substantiell")
    form = form_of(login_page)
    redirect = session.post(
        form.action,
        data={"username": "erika3", "password": "geheim-3", "action": "login"},
        allow_redirects=False,
        timeout=60,
    )
    # Follow the provider's redirects up to (not into) our callback.
    while redirect.is_redirect and not redirect.headers["Location"].startswith(world.login_url):
        redirect = session.get(redirect.headers["Location"], allow_redirects=False, timeout=30)
    callback = redirect.headers["Location"]
    confirm(conversation, requests.get(callback, timeout=60))
    ids.logout(conversation)
    replay = requests.get(callback, timeout=60)
    assert replay.status_code == 400 and ids.current_identity(conversation) is None
    forged_state = callback.replace(state, "x" * len(state))
    assert requests.get(forged_state, timeout=60).status_code == 400


def test_code_from_another_login_is_refused(world):
    """A code issued to login A, presented with login B's state: PKCE and nonce do not match."""
    first, second = conv(), conv()
    session, page_a, _ = to_provider(world, first, "substantiell")
    redirect = session.post(
        form_of(page_a).action,
        data={"username": "erika3", "password": "geheim-3", "action": "login"},
        allow_redirects=False,
        timeout=60,
    )
    while redirect.is_redirect and not redirect.headers["Location"].startswith(world.login_url):
        redirect = session.get(redirect.headers["Location"], allow_redirects=False, timeout=30)
    code = parse_qs(urlparse(redirect.headers["Location"]).query)["code"][0]
    _, _, state_b = to_provider(world, second, "substantiell")
    page = requests.get(f"{world.login_url}/login/oidc/callback", params={"code": code, "state": state_b}, timeout=60)
    assert page.status_code == 400
    assert ids.current_identity(first) is None and ids.current_identity(second) is None
