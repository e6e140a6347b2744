"""The widget's side of the login window (webchat/widget/src/login.js), run in Node with fake
windows: which links open a login window, and which messages it accepts a code from. The whole
flow in a real browser is test_e2e_login.py::test_widget_login_window_completes_the_login_in_its_own_chat."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

LOGIN_JS = Path(__file__).resolve().parents[2] / "webchat" / "widget" / "src" / "login.js"

SCRIPT = r"""
import { LoginHandover } from %(module)s;
const log = [];
const sent = [];
const listeners = [];
const popup = { posted: [], postMessage(data, origin) { this.posted.push([data, origin]); } };
const win = {
  open(url, name, features) { log.push(["open", url, features]); return popup; },
  addEventListener(type, fn) { listeners.push([type, fn]); },
};
const h = new LoginHandover(win, (code) => sent.push(code));
const result = {};
const link = "https://login.example/login/start/wc-1?ticket=t";
result.beforeService = h.isLoginLink(link);
h.setService("https://login.example");
result.link = h.isLoginLink(link);
result.otherOrigin = h.isLoginLink("https://evil.example/login/start/wc-1?ticket=t");
result.otherPath = h.isLoginLink("https://login.example/login/logout/wc-1?ticket=t");
result.openOther = h.open("https://evil.example/login/start/x");
result.opened = h.open(link);
const deliver = (event) => h.onMessage(event);
result.listeners = listeners.map(([t]) => t);
// From another window, or the right window but another origin: ignored.
result.strangerReady = deliver({ source: {}, origin: "https://login.example", data: { type: "ba-login-ready" } });
result.wrongOrigin = deliver({ source: popup, origin: "https://evil.example", data: { type: "ba-login-code", code: "1234-5678" } });
result.ready = deliver({ source: popup, origin: "https://login.example", data: { type: "ba-login-ready" } });
result.malformed = deliver({ source: popup, origin: "https://login.example", data: { type: "ba-login-code", code: "<img>" } });
result.code = deliver({ source: popup, origin: "https://login.example", data: { type: "ba-login-code", code: "1234-5678" } });
result.again = deliver({ source: popup, origin: "https://login.example", data: { type: "ba-login-code", code: "8765-4321" } });
result.sent = sent;
result.posted = popup.posted;
result.log = log;
console.log(JSON.stringify(result));
"""


def test_login_window_handshake_accepts_only_its_own_window_and_origin(tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.fail("node fehlt (wird auch für das Widget gebraucht)")
    script = tmp_path / "t.mjs"
    script.write_text(SCRIPT % {"module": json.dumps(LOGIN_JS.as_uri())})
    out = subprocess.run([node, str(script)], capture_output=True, text=True, timeout=60, check=True).stdout
    r = json.loads(out)
    assert r["beforeService"] is False and r["link"] is True
    assert r["otherOrigin"] is False and r["otherPath"] is False
    assert r["openOther"] is False and r["opened"] is True
    assert [entry[0] for entry in r["log"]] == ["open"] and "popup" in r["log"][0][2]
    assert r["listeners"] == ["message"]
    assert r["strangerReady"] is False and r["wrongOrigin"] is False and r["malformed"] is False
    assert r["ready"] is True and r["code"] is True and r["again"] is False
    assert r["sent"] == ["1234-5678"]
    assert r["posted"] == [
        [{"type": "ba-login-hello"}, "https://login.example"],
        [{"type": "ba-login-received"}, "https://login.example"],
    ]


RESULT_JS = Path(__file__).resolve().parents[2] / "login_service" / "static" / "login-result.js"

RESULT_SCRIPT = r"""
import { readFileSync } from "node:fs";
const source = readFileSync(%(path)s, "utf8");
function run(origins, loopback, events) {
  const opener = { posted: [], postMessage(data, origin) { this.posted.push([data, origin]); } };
  const attrs = { "data-code": "4829-1736", "data-origins": JSON.stringify(origins), "data-loopback": loopback };
  const listeners = [];
  const window = { opener, closed: false, addEventListener(t, fn) { listeners.push(fn); }, close() { this.closed = true; } };
  const document = { getElementById(id) { return id === "login-handover" ? { getAttribute: (a) => attrs[a] } : { hidden: true }; } };
  new Function("window", "document", source)(window, document);
  for (const [who, origin, type] of events) {
    const source = who === "opener" ? opener : {};
    for (const fn of listeners) fn({ source, origin, data: { type } });
  }
  return { posted: opener.posted, closed: window.closed };
}
console.log(JSON.stringify({
  evil: run(["https://portal.example"], "0", [["opener", "https://evil.example", "ba-login-hello"]]),
  loopbackNotListed: run(["https://portal.example"], "0", [["opener", "http://127.0.0.1:8000", "ba-login-hello"]]),
  stranger: run(["https://portal.example"], "0", [["other", "https://portal.example", "ba-login-hello"]]),
  portal: run(["https://portal.example"], "0", [["opener", "https://portal.example", "ba-login-hello"],
                                                ["opener", "https://portal.example", "ba-login-received"]]),
  local: run([], "1", [["opener", "http://127.0.0.1:8000", "ba-login-hello"]]),
  wildcard: run([], "0", [["opener", "https://evil.example", "ba-login-hello"]]),
}));
"""


def test_result_page_sends_the_code_only_to_an_allowed_opener(tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.fail("node fehlt")
    script = tmp_path / "r.mjs"
    script.write_text(RESULT_SCRIPT % {"path": json.dumps(str(RESULT_JS))})
    r = json.loads(subprocess.run([node, str(script)], capture_output=True, text=True, timeout=60, check=True).stdout)
    ready = [{"type": "ba-login-ready"}, "*"]  # carries no secret
    code = {"type": "ba-login-code", "code": "4829-1736"}
    for case in ("evil", "loopbackNotListed", "stranger", "wildcard"):
        assert r[case]["posted"] == [ready], case
        assert r[case]["closed"] is False
    assert r["portal"] == {"posted": [ready, [code, "https://portal.example"]], "closed": True}
    assert r["local"]["posted"] == [ready, [code, "http://127.0.0.1:8000"]]
