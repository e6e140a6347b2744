"""The curated procedure ``blaue_karte_eu`` over FIT-Connect: its mapping onto FIM S00000121, the
data document as JSON and as XML, and the operator's LeiKa key.

FIT-Connect is the TEST DOUBLE ``tests/support/fit_connect_double.py`` (FIT-Connect's test
environment cannot be reached from here). Its destination declares the schema derived from the
FIM file (JSON Schema or XSD), decrypts with its private key and validates the data document
with jsonschema / xmlschema; everything on our side is the real backend. The whole chat path is
in ``tests/e2e/test_fit_connect_blue_card.py``.
"""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

import pytest
from aiohttp.test_utils import TestServer
from support.fit_connect_double import FitConnectDouble

from buergerassistent import fim_mapping
from buergerassistent.catalogue import default_catalogue
from buergerassistent.storage import make_engine
from buergerassistent.submission.fit_connect import FitConnectBackend, SubmissionStore, parse_leika_keys
from buergerassistent.submission.portal_client import PortalUnavailable
from buergerassistent.validation import validate

CATALOGUE = default_catalogue()
PROC = CATALOGUE.get("blaue_karte_eu")
MUNICH_ARS = "091620000000"
TEST_LEIKA = "99000000000000"  # test destination only; no real key is in our sources
JSON, XML = "application/json", "application/xml"


def answers(**overrides) -> dict[str, str]:
    """The values the chat stores for the entry's example answers (validated like in the chat)."""
    out = {}
    for f in PROC.fields:
        result = validate(f.type, overrides.get(f.name, f.example), choices=f.choices)
        assert result.ok, (f.name, result)
        out[f.name] = result.value
    return out


DATA = answers(vorname="Priya", krankenversichert="ja")


def mapping() -> fim_mapping.Mapping:
    return fim_mapping.mapping_for(PROC)


async def _setup(tmp_path, mime: str, data_schema=None):
    double = FitConnectDouble()
    server = TestServer(double.app())
    await server.start_server()
    double.base_url = str(server.make_url("")).rstrip("/")
    m = mapping()
    uri = m.schema.uri if mime == JSON else m.xml_uri
    if data_schema is None:
        data_schema = m.json_schema() if mime == JSON else m.xsd()
    double.add_destination(TEST_LEIKA, MUNICH_ARS, uri, mime=mime, data_schema=data_schema)
    backend = FitConnectBackend(
        store=SubmissionStore(make_engine(f"sqlite:///{tmp_path / 'outbox.db'}")),
        catalogue=CATALOGUE,
        **double.sender_settings(),
        timeout_s=2.0,
        leika_keys=f"blaue_karte_eu={TEST_LEIKA}",
    )
    return double, server, backend


def test_the_entry_maps_every_mandatory_input_field_of_the_schema():
    errors, notes = fim_mapping.check_mapping(PROC)
    assert errors == []
    # Only the missing LeiKa key is noted; no mandatory FIM field goes unasked.
    assert notes == ["kein LeiKa-Schlüssel (leika:): FIT-Connect braucht ihn dann aus FITCONNECT_LEIKA_KEYS"]
    m = mapping()
    required = {path + (node.id,) for path, node in m.schema.required_fields()}
    # File fields are not input fields (required_fields leaves them out); every other mandatory
    # field under mandatory groups is asked.
    assert required - set(m.paths.values()) == set()


async def test_blue_card_json_arrives_valid_with_typed_values(tmp_path):
    double, server, backend = await _setup(tmp_path, JSON)
    try:
        receipt = await backend.submit("blaue_karte_eu", DATA, "bk-1")
    finally:
        await backend.close()
        await server.close()
    (sub,) = double.submissions.values()
    assert receipt.case_number == sub.case_id
    assert double.problems == []
    assert sub.metadata["contentStructure"]["data"]["submissionSchema"] == {
        "schemaUri": mapping().schema.uri,
        "mimeType": JSON,
    }
    assert sub.data["G00000630"]["F00000045"] == "Priya"
    assert sub.data["G00000630"]["F00001017"] == 168
    assert sub.data["G00000636"]["F00001027"] is True
    assert sub.data["F00001049"] is False  # a top-level yes/no question of the schema
    assert sub.data["G00000642"]["F00000728"] == 58000.0
    assert sub.data["G00000629"]["F00000004"] == DATA["visum_ausgestellt_am"]
    assert sub.data["G00000633"]["F00000004"] == DATA["abschluss_datum"]


async def test_blue_card_xml_for_a_destination_that_declares_only_xml(tmp_path):
    double, server, backend = await _setup(tmp_path, XML)
    try:
        await backend.submit("blaue_karte_eu", DATA, "bk-2")
    finally:
        await backend.close()
        await server.close()
    (sub,) = double.submissions.values()
    assert double.problems == []  # valid against the destination's XSD
    assert sub.metadata["contentStructure"]["data"]["submissionSchema"] == {
        "schemaUri": mapping().xml_uri,
        "mimeType": XML,
    }
    root = ET.fromstring(sub.data_raw)
    ns = {"f": mapping().xml_namespace}
    assert root.tag == f"{{{mapping().xml_namespace}}}S00000121"
    assert root.findtext("f:G00000630/f:F00000045", namespaces=ns) == "Priya"
    assert root.findtext("f:G00000771/f:G00000236/f:G00000237/f:G00000113/f:F00000054", namespaces=ns) == "80331"
    assert root.findtext("f:G00000636/f:F00001027", namespaces=ns) == "true"
    assert root.findtext("f:F00001041", namespaces=None) is None  # nested: G00000638
    assert root.findtext("f:G00000638/f:F00001041", namespaces=ns) == "false"
    assert mapping().parse_xml(sub.data_raw)["G00000642"]["F00000728"] == "58000.0"


async def test_a_document_the_destination_schema_refuses_is_rejected_by_the_destination(tmp_path):
    # The destination's schema wants a field we do not send: it rejects (signed reject event).
    schema = mapping().json_schema()
    schema["required"] = [*schema.get("required", []), "G00000999"]
    double, server, backend = await _setup(tmp_path, JSON, data_schema=schema)
    try:
        receipt = await backend.submit("blaue_karte_eu", DATA, "bk-3")
        history = await backend.status_history(receipt.case_number)
    finally:
        await backend.close()
        await server.close()
    assert any("G00000999" in p for p in double.problems)
    assert history["status"] == "abgelehnt"


async def test_an_invalid_value_is_never_sent(tmp_path, caplog):
    double, server, backend = await _setup(tmp_path, XML)
    try:
        with pytest.raises(PortalUnavailable):
            await backend.submit("blaue_karte_eu", dict(DATA, visum_gueltig_bis="bald"), "bk-4")
    finally:
        await backend.close()
        await server.close()
    assert double.submissions == {}  # nothing announced, nothing sent
    assert "bald" not in caplog.text  # the log names the rule and the place, not the value


def unreachable_route(directory) -> dict:
    """Arguments of a ``FitConnectBackend`` whose route nobody serves: for the checks it makes
    before it calls anything."""
    return dict(
        store=SubmissionStore(make_engine(f"sqlite:///{directory / 'o.db'}")),
        catalogue=CATALOGUE,
        submission_url="http://127.0.0.1:9",
        routing_url="http://127.0.0.1:9",
        token_url="http://127.0.0.1:9/token",
        signature_jwks_url="http://127.0.0.1:9/jwks",
        client_id="id",
        client_secret="secret",
    )


def test_the_leika_key_comes_from_the_operator_when_the_catalogue_has_none(tmp_path):
    kwargs = unreachable_route(tmp_path)
    with pytest.raises(ValueError, match="FITCONNECT_LEIKA_KEYS"):
        FitConnectBackend(**kwargs, leika_keys="").check_procedure("blaue_karte_eu")
    proc, _ = FitConnectBackend(**kwargs, leika_keys=f"blaue_karte_eu={TEST_LEIKA}").check_procedure("blaue_karte_eu")
    assert proc.leika == TEST_LEIKA
    with pytest.raises(ValueError, match="14-digit"):
        parse_leika_keys("blaue_karte_eu=123")
    assert parse_leika_keys(" a=12345678901234 , b=00000000000001 ") == {"a": "12345678901234", "b": "00000000000001"}


def _with_fim(**changes):
    fields = list(PROC.fields)
    for name, fim in changes.items():
        i = next(i for i, f in enumerate(fields) if f.name == name)
        fields[i] = dataclasses.replace(fields[i], fim=fim)
    return dataclasses.replace(PROC, fields=tuple(fields))


def test_check_content_fails_for_an_unknown_fim_id_or_a_field_without_fim():
    from content import lint

    assert [i for i in lint.check_fim_mappings(catalogue=[PROC]) if i.level == "error"] == []
    issues = lint.check_fim_mappings(catalogue=[_with_fim(augenfarbe="F09999999")])
    assert any(i.level == "error" and "F09999999" in str(i) for i in issues)
    issues = lint.check_fim_mappings(catalogue=[_with_fim(jahresgehalt=None)])
    assert any(i.level == "error" and "jahresgehalt" in str(i) for i in issues)
