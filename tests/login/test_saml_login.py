"""SAML login against a real IdP (pysaml2 + xmlsec1), through the login service's HTTP routes.

Rasa is replaced here by a recorder of the login service's notifications (``RasaRecorder``);
the e2e tests (test_e2e_login.py) run the same flow against the real Rasa.
"""

from __future__ import annotations

import base64
import uuid

import pytest
import requests

from buergerassistent import identity as ids
from buergerassistent import signing

from .conftest import confirm, form_of, nothing_logged, saml_login, text_of
from .saml_idp import CITIZENS, Variant

PERSONAL = ("Erika", "Mustermann", "Musterberg", "1964-08-12", "Heidestraße", "bPK2-", "erika.mustermann@")


def conv() -> str:
    return f"saml-{uuid.uuid4().hex[:10]}"


@pytest.fixture(autouse=True)
def no_personal_data_in_logs(caplog):
    with nothing_logged(caplog, PERSONAL):
        yield


def pending_request(world, conversation: str, level: str):
    """Start a login and return (session, AuthnRequest as the IdP parsed it, RelayState, raw XML)."""
    session = requests.Session()
    start = session.get(world.link(conversation, level), timeout=30)
    form = form_of(start)
    request = world.idp.parse_request(form.fields["SAMLRequest"])  # verifies our signature
    xml = base64.b64decode(form.fields["SAMLRequest"]).decode()
    return session, request, form.fields["RelayState"], xml


def post_acs(world, saml_response: str, relay_state: str) -> requests.Response:
    return requests.post(
        f"{world.login_url}/login/saml/acs", data={"SAMLResponse": saml_response, "RelayState": relay_state}, timeout=60
    )


def test_metadata_offers_signing_and_encryption_keys(world):
    xml = requests.get(f"{world.login_url}/login/saml/metadata", timeout=30).text
    assert 'use="signing"' in xml and 'use="encryption"' in xml
    assert f'Location="{world.login_url}/login/saml/acs"' in xml
    assert 'AuthnRequestsSigned="true"' in xml and 'WantAssertionsSigned="true"' in xml


def test_authn_request_is_signed_with_level_and_akdb_extension(world):
    _, request, _, xml = pending_request(world, conv(), "hoch")
    assert request.requested_authn_context.comparison == "minimum"
    assert request.requested_authn_context.authn_context_class_ref[0].text == "STORK-QAA-Level-4"
    assert "rsa-sha256" in xml and "<ns2:SignatureValue>" in xml
    assert 'xmlns:ns3="https://www.akdb.de/request/2018/09"' in xml and "AuthenticationRequest" in xml
    assert 'Name="urn:oid:1.3.6.1.4.1.25484.494450.3"' in xml  # bPK2 requested by OID
    for element in ("OrganizationDisplayName", "Lang", "RequestedAttribute"):
        assert element in xml


@pytest.mark.parametrize(
    "username,level", [("max1", "basisregistriert"), ("erika3", "substantiell"), ("erika4", "hoch")]
)
def test_login_at_each_level_is_attached_once_the_chat_confirms_it(world, username, level):
    conversation = conv()
    _, page = saml_login(world, conversation, level, username, CITIZENS[username].password)
    assert page.status_code == 200 and "Code in Ihrem Chat ein" in page.text
    assert ids.current_identity(conversation) is None  # not before the chat handed the code back
    confirm(conversation, page)
    ident = ids.current_identity(conversation)
    citizen = CITIZENS[username]
    assert ident.level == level and ident.source == "saml"
    assert ident.subject == citizen.bpk2
    # Mapped by OID: the IdP sends a misleading FriendlyName "surname" on the given name.
    assert ident.attributes["given_name"] == citizen.given_name
    assert ident.attributes["family_name"] == citizen.family_name
    assert ident.attributes["birth_date"] == citizen.birth_date
    assert ident.method
    # The conversation hears of a successful login only through the code, never from the login
    # service (whoever completed it may not be the person whose chat this is).
    assert not [c for c in world.recorder.calls if c["conversation"] == conversation]


def test_assertion_travels_encrypted(world):
    conversation = conv()
    _, request, relay, _ = pending_request(world, conversation, "substantiell")
    response = base64.b64decode(world.idp.response_for(request, "erika3")).decode()
    assert "EncryptedAssertion" in response and "Mustermann" not in response


def test_temporary_login_has_no_bpk2(world):
    conversation = conv()
    _, page = saml_login(world, conversation, "substantiell", "temp3", "geheim-t")
    assert page.status_code == 200
    confirm(conversation, page)
    ident = ids.current_identity(conversation)
    assert ident.temporary and ident.subject is None and ident.attributes["family_name"] == "Temporär"


def test_cancel_at_the_idp_is_reported_to_the_conversation(world):
    conversation = conv()
    _, page = saml_login(world, conversation, "substantiell", "erika3", "", action="cancel")
    assert page.status_code == 403 and "abgebrochen" in text_of(page)
    assert ids.current_identity(conversation) is None
    world.recorder.wait_for(conversation)
    assert ids.pop_outcome(conversation)["outcome"] == "cancelled"


def test_level_lower_than_requested_is_refused(world):
    conversation = conv()
    _, page = saml_login(world, conversation, "substantiell", "max1", "geheim-1")
    assert page.status_code == 403 and "Vertrauensniveau" in text_of(page)
    assert ids.current_identity(conversation) is None
    world.recorder.wait_for(conversation)
    outcome = ids.pop_outcome(conversation)
    assert outcome["outcome"] == "level_too_low"
    assert (outcome["level_required"], outcome["level_achieved"]) == ("substantiell", "basisregistriert")


def test_assertion_claiming_a_lower_level_than_requested_is_refused(world):
    conversation = conv()
    _, request, relay, _ = pending_request(world, conversation, "hoch")
    page = post_acs(world, world.idp.response_for(request, "erika4", Variant(level=3)), relay)
    assert page.status_code == 403 and "Vertrauensniveau" in text_of(page)
    assert ids.current_identity(conversation) is None


@pytest.mark.parametrize(
    "variant",
    [
        Variant(sign=False),  # unsigned
        Variant(foreign_key=True),  # forged: signed with a key the SP does not know
        Variant(audience="https://andere-behoerde.example/sp"),  # wrong audience
        Variant(expired=True),  # outside the validity window
    ],
    ids=["unsigned", "forged", "wrong-audience", "expired"],
)
def test_untrustworthy_responses_are_refused(world, variant):
    conversation = conv()
    _, request, relay, _ = pending_request(world, conversation, "substantiell")
    page = post_acs(world, world.idp.response_for(request, "erika3", variant), relay)
    assert page.status_code == 400
    assert "konnte nicht geprüft werden" in text_of(page) and "nicht angemeldet" in text_of(page)
    assert ids.current_identity(conversation) is None
    # A forger cannot even make the assistant speak, and the real answer still gets through.
    assert not [c for c in world.recorder.calls if c["conversation"] == conversation]
    real = post_acs(world, world.idp.response_for(request, "erika3"), relay)
    assert real.status_code == 200
    assert confirm(conversation, real).attributes["family_name"] == "Mustermann"


def test_tampered_response_is_refused(world):
    conversation = conv()
    _, request, relay, _ = pending_request(world, conversation, "substantiell")
    xml = base64.b64decode(world.idp.response_for(request, "erika3", Variant())).decode()
    # Flip one character inside the signed, encrypted content.
    at = xml.index("<xenc:CipherValue>") + 40 if "<xenc:CipherValue>" in xml else xml.index("CipherValue>") + 40
    tampered = xml[:at] + ("A" if xml[at] != "A" else "B") + xml[at + 1 :]
    page = post_acs(world, base64.b64encode(tampered.encode()).decode(), relay)
    assert page.status_code == 400 and ids.current_identity(conversation) is None


def test_replayed_response_is_refused(world):
    conversation = conv()
    _, request, relay, _ = pending_request(world, conversation, "substantiell")
    response = world.idp.response_for(request, "erika3")
    confirm(conversation, post_acs(world, response, relay))
    ids.logout(conversation)
    replay = post_acs(world, response, relay)
    assert replay.status_code == 400 and "schon verarbeitet" in text_of(replay)
    assert ids.current_identity(conversation) is None


def test_response_for_another_conversations_request_is_refused(world):
    first, second = conv(), conv()
    _, request_a, relay_a, _ = pending_request(world, first, "substantiell")
    _, request_b, relay_b, _ = pending_request(world, second, "substantiell")
    # The answer to A's request, sent with B's RelayState: InResponseTo does not match.
    page = post_acs(world, world.idp.response_for(request_a, "erika3"), relay_b)
    assert page.status_code == 400
    assert ids.current_identity(first) is None and ids.current_identity(second) is None


def test_replayed_ticket_is_refused(world):
    conversation = conv()
    link = world.link(conversation, "substantiell")
    assert requests.get(link, timeout=30).status_code == 200
    again = requests.get(link, timeout=30)
    assert again.status_code == 403 and "schon benutzt" in text_of(again)


def test_expired_ticket_is_refused(world):
    conversation = conv()
    ticket = signing.sign({"sub": conversation, "lvl": "substantiell"}, ids.TICKET_PURPOSE, -5)
    page = requests.get(f"{world.login_url}/login/start/{conversation}?ticket={ticket}", timeout=30)
    assert page.status_code == 403 and "abgelaufen" in text_of(page)


def test_forged_ticket_is_refused(world):
    conversation = conv()
    ticket = signing.sign({"sub": conversation, "lvl": "substantiell"}, ids.TICKET_PURPOSE, 60, key=b"x" * 32)
    page = requests.get(f"{world.login_url}/login/start/{conversation}?ticket={ticket}", timeout=30)
    assert page.status_code == 403 and "ungültig" in text_of(page)


def test_ticket_from_another_conversation_is_refused(world):
    mine, other = conv(), conv()
    link = world.link(other, "substantiell").replace(f"/start/{other}", f"/start/{mine}")
    page = requests.get(link, timeout=30)
    assert page.status_code == 403 and "anderen Gespräch" in text_of(page)


def test_logout_route_ends_the_session(world):
    conversation = conv()
    confirm(conversation, saml_login(world, conversation, "substantiell", "erika3", "geheim-3")[1])
    assert ids.current_identity(conversation) is not None
    url = ids.logout_url(conversation).replace(ids.login_public_url(), world.login_url)
    assert requests.get(url, timeout=30).status_code == 200
    assert ids.current_identity(conversation) is None
    assert requests.get(url, timeout=30).status_code == 403  # single use
