"""The login pages speak the conversation's language (issue 20): an English chat's login link
carries ``lang: en`` in its signed ticket; the start page, the IdP's answer page (result or
refusal) and the logout page are English. A German link stays German. Real IdPs (SAML and OIDC)
through the login service's HTTP routes, as in test_saml_login.py / test_oidc_login.py."""

from __future__ import annotations

import html
import re
import uuid

import requests

from buergerassistent import identity as ids
from buergerassistent.identity import issue_ticket

from .conftest import confirm, form_of, saml_login, submit, text_of
from .saml_idp import CITIZENS


def conv() -> str:
    return f"lang-{uuid.uuid4().hex[:10]}"


def _no_german(text: str) -> None:
    for word in ("Anmeldung", "Nutzerkonto", "Bitte", "Sie ", "Code in Ihrem Chat", "abgebrochen"):
        assert word not in text, f"German on an English login page: {word!r}\n{text[:600]}"


def test_english_saml_login_pages_are_english_and_the_code_works(world):
    conversation = conv()
    session = requests.Session()
    start = session.get(world.link(conversation, "substantiell", "en"), timeout=30)
    assert start.status_code == 200 and '<html lang="en">' in start.text
    page = text_of(start)
    assert "Log in with your user account" in page and "Only log in if you opened this link yourself" in page
    assert ids.chat_label(conversation) in page
    _no_german(page)
    citizen = CITIZENS["erika3"]
    idp_page = submit(session, start)
    back = submit(session, idp_page, username="erika3", password=citizen.password, action="login")
    result = submit(session, back)
    assert result.status_code == 200 and '<html lang="en">' in result.text
    text = text_of(result)
    assert "Please enter this code in your chat" in text and "valid for 5 minutes" in text
    _no_german(text)
    assert confirm(conversation, result).level == "substantiell"


def test_german_link_keeps_german_pages(world):
    conversation = conv()
    _, page = saml_login(world, conversation, "substantiell", "erika3", CITIZENS["erika3"].password)
    assert '<html lang="de">' in page.text and "Code in Ihrem Chat ein" in page.text


def test_english_cancel_at_the_idp_is_refused_in_english(world):
    conversation = conv()
    _, page = saml_login(world, conversation, "substantiell", "", "", action="cancel", lang="en")
    assert page.status_code == 403 and '<html lang="en">' in page.text
    assert "You have cancelled the login" in text_of(page)
    _no_german(text_of(page))
    world.recorder.wait_for(conversation)


def test_english_oidc_login_result_is_english(world):
    conversation = conv()
    session = requests.Session()
    start = session.get(world.link(conversation, "substantiell", "en") + "&protocol=oidc", timeout=30)
    assert start.status_code == 200 and "Continue to the user account" in start.text
    authorize = html.unescape(re.search(r'<a id="continue" href="([^"]+)"', start.text).group(1))
    login_page = session.get(authorize, timeout=30)
    form = form_of(login_page)
    back = session.post(form.action, data={"username": "erika3", "password": "geheim-3", "action": "login"}, timeout=60)
    assert back.status_code == 200 and '<html lang="en">' in back.text
    assert "Please enter this code in your chat" in text_of(back)
    _no_german(text_of(back))
    confirm(conversation, back)


def test_used_english_link_is_refused_in_english(world):
    conversation = conv()
    link = (
        f"{world.login_url}/login/start/{conversation}?ticket={issue_ticket(conversation, 'substantiell', lang='en')}"
    )
    assert requests.get(link, timeout=30).status_code == 200
    again = requests.get(link, timeout=30)
    assert again.status_code == 403 and "This login link has already been used" in text_of(again)


def test_english_logout_page(world):
    conversation = conv()
    url = ids.logout_url(conversation, lang="en").replace(ids.login_public_url(), world.login_url)
    page = requests.get(url, timeout=30)
    assert page.status_code == 200 and "You are logged out" in text_of(page)
    _no_german(text_of(page))


def test_leichte_sprache_login_pages_are_plain_german(world):
    """A Leichte-Sprache chat's link carries ``lang: ls``: the pages are German (``lang="de"``)
    in the plain texts of ``leichte_sprache/messages.yaml``, also after the IdP's answer."""
    conversation = conv()
    session = requests.Session()
    start = session.get(world.link(conversation, "substantiell", "ls"), timeout=30)
    assert start.status_code == 200 and '<html lang="de">' in start.text
    page = text_of(start)
    assert "Gleich kommt die Seite von Ihrem Nutzer-Konto" in page and "Dann hören Sie hier bitte auf" in page
    assert "Melden Sie sich nur an, wenn Sie diesen Link selbst" not in page  # the standard text
    citizen = CITIZENS["erika3"]
    idp_page = submit(session, start)
    back = submit(session, idp_page, username="erika3", password=citizen.password, action="login")
    result = submit(session, back)
    assert result.status_code == 200 and '<html lang="de">' in result.text
    text = text_of(result)
    assert "Bitte schreiben Sie diesen Code in Ihren Chat" in text and "Sie können ihn nur einmal benutzen" in text
    assert confirm(conversation, result).level == "substantiell"


def test_leichte_sprache_refusals_and_logout_are_plain(world):
    conversation = conv()
    _, page = saml_login(world, conversation, "substantiell", "", "", action="cancel", lang="ls")
    assert page.status_code == 403 and '<html lang="de">' in page.text
    assert "Sie haben die Anmeldung abgebrochen" in text_of(page) and "Anmelden geht nicht" in text_of(page)
    world.recorder.wait_for(conversation)
    other = conv()
    link = f"{world.login_url}/login/start/{other}?ticket={issue_ticket(other, 'substantiell', lang='ls')}"
    assert requests.get(link, timeout=30).status_code == 200
    again = requests.get(link, timeout=30)
    assert again.status_code == 403 and "Diesen Link zum Anmelden haben Sie schon benutzt" in text_of(again)
    url = ids.logout_url(other, lang="ls").replace(ids.login_public_url(), world.login_url)
    out = requests.get(url, timeout=30)
    assert out.status_code == 200 and "Sie sind jetzt abgemeldet" in text_of(out)
