"""Login from Matrix, end to end, as the citizen does it (issue 17, "Login from a messenger").

Real components: Synapse (``support.synapse``), the whole stack with the login enforced and the
Matrix connector, the login service, the test SAML IdP of ``tests/login`` (pysaml2 + xmlsec1).
The citizen writes in an encrypted direct chat (``support.matrix_citizen``), opens the login link
from the Matrix message in the browser (HTTP, as ``tests/login/test_e2e_login.py`` does: start page
→ IdP → ACS → result page with the one-time code), types the code into the Matrix chat and gets the
greeting and the form there; the application is submitted from that Matrix room. The code typed
into another Matrix conversation logs in nobody.
"""

from __future__ import annotations

import html
import re
import secrets

import pytest
import requests
from login.conftest import LoopThread, code_of, submit, text_of
from login.saml_idp import Idp
from support.forms import CASE_NUMBER
from support.matrix_citizen import CitizenThread
from support.stacks import free_port, running_stack

pytestmark = pytest.mark.e2e

_HREF = re.compile(r'href="([^"]+)"')
_LABEL = re.compile(r"Chat [A-Z0-9]{4}")


@pytest.fixture(scope="module")
def login_bot(synapse):
    return synapse.register_user(f"assistent-login-{secrets.token_hex(3)}")


@pytest.fixture(scope="module")
def matrix_login_stack(synapse, login_bot, tmp_path_factory):
    var = tmp_path_factory.mktemp("matrix-login")
    loops = LoopThread()
    idp_port = free_port()
    idp = Idp(f"http://127.0.0.1:{idp_port}", var)
    (var / "idp-metadata.xml").write_text(idp.metadata_xml())
    loops.serve(idp.app(), idp_port)
    try:
        with running_stack(
            var,
            login_required=True,
            env={
                "SAML_IDP_METADATA": str(var / "idp-metadata.xml"),
                "LOGIN_ONLINE_SERVICE_ID": "test-online-service",
            },
            matrix_homeserver_url=synapse.base_url,
            matrix_user_id=login_bot.user_id,
            matrix_password=login_bot.password,
        ) as stack:
            login = next(s for s in stack.services if s.name == "login")
            login_url = login.health_url.rsplit("/health", 1)[0]
            idp.sp_metadata = requests.get(f"{login_url}/login/saml/metadata", timeout=30).text
            yield stack
    finally:
        loops.close()


@pytest.fixture
def new_citizen(synapse, login_bot, matrix_login_stack):
    people: list[CitizenThread] = []

    def make() -> CitizenThread:
        person = CitizenThread(synapse, login_bot.user_id)
        person.open(encrypted=True)
        people.append(person)
        return person

    yield make
    for person in people:
        person.close()


def _text(messages) -> str:
    return "\n".join(m.body for m in messages)


def _login_offer(citizen: CitizenThread) -> tuple[str, str]:
    """Ask for a form that needs the login; returns the login link and the chat's label."""
    offer = citizen.say_text("Ich brauche eine Meldebescheinigung")
    assert "jetzt hier im Chat beantragen" in offer, offer
    messages = citizen.say("Ja")
    text = _text(messages)
    assert "anmelden" in text and "Vertrauensniveau substantiell" in text, text
    assert "Schritt 1" not in text  # the form waits for the login
    links = [html.unescape(a) for m in messages for a in _HREF.findall(m.html or "") if "/login" in a]
    assert links, [m.html for m in messages]
    assert links[0] in text  # the plain body carries the link too (clients without HTML)
    label = _LABEL.search(text)
    assert label, text
    return links[0], label.group(0)


def _browser_login(url: str, username: str = "erika3", password: str = "geheim-3") -> requests.Response:
    """The citizen's browser: login start page → IdP form → back to the login service → result."""
    session = requests.Session()
    start = session.get(url, timeout=30)
    assert start.status_code == 200, start.text[:500]
    idp_page = submit(session, start)
    back = submit(session, idp_page, username=username, password=password, action="login")
    return submit(session, back)


def _wait_text(citizen: CitizenThread, needle: str, mark: int, timeout: float = 60) -> str:
    citizen.run(
        citizen.citizen.wait_for(
            citizen.room_id, lambda log: any(needle in m.body for m in log.messages[mark:]), timeout
        )
    )
    return _text(citizen.citizen.rooms[citizen.room_id].messages[mark:])


def _mark(citizen: CitizenThread) -> int:
    return len(citizen.citizen.rooms[citizen.room_id].messages)


def test_login_from_matrix_continues_in_the_room_and_submits_there(new_citizen):
    citizen = new_citizen()
    link, label = _login_offer(citizen)

    page = _browser_login(link)
    assert page.status_code == 200 and label in text_of(page)  # the page names this chat
    code = code_of(page)
    assert "nicht angemeldet" in citizen.say_text("Bin ich angemeldet?")  # not before the code is back

    # The code typed into the Matrix chat: greeting and the form continue here.
    mark = _mark(citizen)
    citizen.run(citizen.citizen.send(citizen.room_id, code))
    after = _wait_text(citizen, "Soll ich Name, Geburtsdatum und Anschrift", mark)
    assert "Sie sind angemeldet als Erika Mustermann (Vertrauensniveau substantiell)." in after, after
    assert all(m.encrypted for m in citizen.citizen.rooms[citizen.room_id].messages[mark:])

    status = citizen.say_text("Bin ich angemeldet?")
    assert "Ja." in status and "Erika Mustermann" in status, status

    # Prefill from the account, then submit: the application belongs to this Matrix room.
    assert "einfache oder eine erweiterte" in citizen.say_text("Ja")
    summary = citizen.say_text("einfach")
    for shown in ("Erika", "Mustermann", "12.08.1964", "Heidestraße 17", "51147", "Köln"):
        assert shown in summary, summary
    final = citizen.say("Ja, absenden")
    found = CASE_NUMBER.search(_text(final))
    assert found, _text(final)
    assert any(m.msgtype == "m.file" for m in final), [m.msgtype for m in final]
    assert found.group(1) in citizen.say_text("Wie ist der Stand meines Antrags?")

    assert "abgemeldet" in citizen.say_text("abmelden")
    assert "nicht angemeldet" in citizen.say_text("Bin ich angemeldet?")


def test_code_typed_in_another_matrix_chat_logs_in_nobody(new_citizen):
    owner, other = new_citizen(), new_citizen()
    link, _label = _login_offer(owner)
    code = code_of(_browser_login(link))

    # Another Matrix conversation, itself waiting for a login, is handed the owner's code.
    _login_offer(other)
    refused = other.say_text(code)
    assert "angemeldet als" not in refused and "Erika" not in refused, refused
    assert "nicht angemeldet" in other.say_text("Bin ich angemeldet?")

    # The owner's room still redeems it.
    mark = _mark(owner)
    owner.run(owner.citizen.send(owner.room_id, code))
    after = _wait_text(owner, "Soll ich Name, Geburtsdatum und Anschrift", mark)
    assert "Sie sind angemeldet als Erika Mustermann" in after, after
    assert "nicht angemeldet" in other.say_text("Bin ich angemeldet?")
