"""docker/proxy-nginx.conf run by a real nginx (Debian package, .ci/apt-packages.txt) in front of
recording HTTP servers that stand in for the compose services: TLS termination, the routes it
publishes and the ones it must not, sticky socket.io sessions, the WebSocket upgrade, the action
server load balancer moving on when one is down, and an access log without tokens or addresses.

Only the host names and ports change (free ports instead of the compose network's names); every
other line of the file is the one compose runs."""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from bot.stack import free_port

from .nginx import UPSTREAMS, certificate, proxy_config, running_nginx


class Recorder(BaseHTTPRequestHandler):
    """Answers with its own name, the path and the headers it received."""

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = json.dumps(
            {
                "upstream": self.server.name,
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("proxy")
    servers = {}
    for name in UPSTREAMS:
        server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
        server.name = name
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers[name] = server
    ports = {"http": free_port(), "https": free_port(), "actions": free_port(), "rasa_api": free_port()}
    cert, key = certificate(tmp)

    conf = proxy_config(
        {name: server.server_address[1] for name, server in servers.items()}, ports, cert, key, tmp / "access.log"
    )
    with running_nginx(tmp, conf, list(ports.values())):
        yield {"ports": ports, "servers": servers, "cert": cert, "log": tmp / "access.log"}
    for server in servers.values():
        server.shutdown()
        server.server_close()


def https(proxy, path: str, method: str = "GET", **kwargs) -> requests.Response:
    url = f"https://127.0.0.1:{proxy['ports']['https']}{path}"
    return requests.request(method, url, verify=str(proxy["cert"]), timeout=5, allow_redirects=False, **kwargs)


def test_plain_http_only_redirects_to_https(proxy):
    response = requests.get(f"http://127.0.0.1:{proxy['ports']['http']}/socket.io/", allow_redirects=False, timeout=5)
    assert response.status_code == 301
    assert response.headers["Location"].startswith("https://")
    # The container's health check (docker-compose.yml) answers on plain HTTP.
    health = requests.get(f"http://127.0.0.1:{proxy['ports']['http']}/healthz", allow_redirects=False, timeout=5)
    assert (health.status_code, health.text) == (200, "ok\n")


def test_tls_routes_and_hsts(proxy):
    routes = {
        "/socket.io/?EIO=4&transport=polling": {"rasa-1", "rasa-2"},
        "/webhooks/telegram/webhook": {"rasa-1", "rasa-2"},
        "/login/start/abc": {"login"},
        "/receipts/some-token": {"portal-backend"},
        "/": {"web"},
        "/widget/buergerassistent-chat.js": {"web"},
    }
    for path, upstreams in routes.items():
        response = https(proxy, path)
        assert response.status_code == 200, path
        assert response.json()["upstream"] in upstreams, path
        assert response.json()["path"] == path
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
        headers = response.json()["headers"]
        assert headers["x-forwarded-proto"] == "https", path
        assert headers["x-forwarded-for"] == "127.0.0.1", path


def test_the_portal_api_and_the_action_server_are_not_published(proxy):
    for path in ("/api/v1/applications", "/webhook", "/health", "/conversations/x/tracker/events"):
        assert https(proxy, path).json()["upstream"] == "web", path


def test_receipts_get_only_and_without_credentials(proxy):
    response = https(proxy, "/receipts/t", headers={"Authorization": "Bearer x", "X-Citizen-Assertion": "y"})
    seen = response.json()["headers"]
    assert "authorization" not in seen and "x-citizen-assertion" not in seen
    assert https(proxy, "/receipts/t", method="POST").status_code == 403
    assert https(proxy, "/receipts/t", method="PUT").status_code == 403


def test_socket_io_sessions_stick_to_one_replica_and_upgrade(proxy):
    seen = {https(proxy, f"/socket.io/?EIO=4&transport=polling&sid={i}").json()["upstream"] for i in range(20)}
    assert len(seen) == 1, seen
    upgraded = https(proxy, "/socket.io/?EIO=4&transport=websocket", headers={"Upgrade": "websocket"}).json()
    assert upgraded["headers"]["upgrade"] == "websocket"
    assert upgraded["headers"]["connection"].lower() == "upgrade"


def _from_address(proxy, source: str, path: str) -> str:
    """The replica that answers ``path`` for a client at ``source`` (a loopback address: Linux
    lets a socket bind any 127.x.y.z, so the proxy sees clients from different networks)."""
    import http.client
    import ssl

    context = ssl.create_default_context(cafile=str(proxy["cert"]))
    connection = http.client.HTTPSConnection(
        "127.0.0.1", proxy["ports"]["https"], timeout=5, context=context, source_address=(source, 0)
    )
    try:
        connection.request("POST", path, body=b"{}", headers={"Content-Type": "application/json"})
        return json.loads(connection.getresponse().read())["upstream"]
    finally:
        connection.close()


def test_each_messenger_webhook_stays_at_one_replica_whatever_the_sender(proxy):
    """Telegram and Threema send from many addresses and without cookies, while their channels keep
    options and replay protection in the Rasa process (docs/messengers.md): every update of one
    webhook must reach the same replica. The web chat, sticky per client address, is spread over
    both from the same senders, so the check is live."""
    sources = [f"127.{i}.{i}.1" for i in range(1, 25)]
    for path in ("/webhooks/telegram/webhook", "/webhooks/threema/callback"):
        seen = {_from_address(proxy, source, path) for source in sources}
        assert len(seen) == 1, (path, seen)
    socket_io = {_from_address(proxy, source, "/socket.io/?EIO=4&transport=polling") for source in sources}
    assert socket_io == {"rasa-1", "rasa-2"}


def test_action_servers_are_balanced_and_one_down_is_skipped(proxy):
    url = f"http://127.0.0.1:{proxy['ports']['actions']}"
    seen = {requests.post(f"{url}/webhook", json={}, timeout=5).json()["upstream"] for _ in range(6)}
    assert seen == {"action-server-1", "action-server-2"}
    assert requests.get(f"{url}/other", timeout=5).status_code == 404
    # Rasa's HTTP API for our services, round robin over both replicas.
    api = f"http://127.0.0.1:{proxy['ports']['rasa_api']}"
    assert {requests.get(f"{api}/", timeout=5).json()["upstream"] for _ in range(6)} == {"rasa-1", "rasa-2"}
    # One action server stops: every call still reaches the other (a refused connection was not sent).
    down = proxy["servers"]["action-server-1"]
    down.shutdown()
    down.server_close()
    answers = [requests.post(f"{url}/webhook", json={}, timeout=5) for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 6
    assert {a.json()["upstream"] for a in answers} == {"action-server-2"}


def test_access_log_has_no_tokens_no_addresses_no_receipts(proxy):
    https(proxy, "/socket.io/?EIO=4&token=secret-in-query")
    https(proxy, "/receipts/receipt-token-123")
    https(proxy, "/login/start/conversation-id-42?ticket=login-ticket")
    time.sleep(0.2)
    log = proxy["log"].read_text()
    assert "/socket.io/" in log and "/login/start/***" in log
    assert "secret-in-query" not in log and "login-ticket" not in log and "conversation-id-42" not in log
    assert "receipt-token-123" not in log and "/receipts/" not in log
    assert "127.0.0.1 -" not in log and not re.search(r"^127\.0\.0\.1 ", log, re.M)
