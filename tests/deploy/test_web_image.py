"""The web image's content and nginx config, served by a real nginx: the widget that `make webchat`
builds (as the image's first stage does), the demo page after the Dockerfile's own sed command,
the security headers of the `make run` demo page, and the image's health check path."""

from __future__ import annotations

import pytest
import requests

from bot.stack import free_port

from .manifests import ROOT
from .nginx import running_nginx, web_config, web_root

DOCKERFILE = ROOT / "docker" / "web.Dockerfile"
WIDGET = ROOT / "webchat" / "dist" / "buergerassistent-chat.js"


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("web")
    port = free_port()
    conf = web_config(web_root(tmp), port)
    with running_nginx(tmp, conf, [port]):
        yield f"http://127.0.0.1:{port}"


def test_demo_page_talks_to_its_own_origin(web):
    response = requests.get(f"{web}/", timeout=5)
    assert response.status_code == 200
    assert '<script src="/widget/buergerassistent-chat.js" defer></script>' in response.text
    assert "__RASA_URL__" not in response.text
    assert requests.get(f"{web}/demo.css", timeout=5).status_code == 200


def test_health_check_path_serves_the_widget(web):
    """The path of the image's HEALTHCHECK and of the Kubernetes probes."""
    assert "/widget/buergerassistent-chat.js" in DOCKERFILE.read_text()
    response = requests.get(f"{web}/widget/buergerassistent-chat.js", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/javascript"
    assert response.content == WIDGET.read_bytes()


def test_security_headers_as_the_demo_page_of_make_run(web):
    headers = requests.get(f"{web}/", timeout=5, headers={"Host": "chat.example.org"}).headers
    csp = dict(part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";"))
    assert csp["script-src"] == "'self'" and csp["style-src"] == "'self'"
    assert csp["connect-src"] == "'self' wss://chat.example.org"
    assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin-allow-popups"
    assert "Server" not in headers or "/" not in headers["Server"]  # no version


def test_no_directory_listing_and_unknown_paths_get_the_page(web):
    response = requests.get(f"{web}/widget/", timeout=5)
    assert response.status_code in (403, 404)
    assert requests.get(f"{web}/some/page", timeout=5).text == requests.get(f"{web}/", timeout=5).text
