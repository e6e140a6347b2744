"""HTTP routes of the login service (aiohttp).

    GET  /login/saml/metadata                 our SAML SP metadata
    GET  /login/start/{conversation}?ticket=   check the chat's login ticket, send the browser to the IdP
    POST /login/saml/acs                      SAML response (HTTP-POST binding)
    GET  /login/oidc/callback                 OIDC authorization response
    GET  /login/logout/{conversation}?ticket=  end the local session (ticket purpose "logout-ticket")
    GET  /health

    GET  /login/static/login-result.js        script of the result page (hands the code to the widget)

A login completes only into the chat of the person who completed it. ``/login/start`` does not
send the browser on by itself: it shows which chat the login is for (``Chat 7F3K · Web-Chat``,
the same label the chat shows next to the login button) and warns not to log in through a link
someone else sent. After the IdP answered successfully the identity is *not* attached to the
conversation: it is kept as a completed login (``ids.complete_login``) and the browser gets a
one-time code. The widget that opened the login window receives the code by ``postMessage``
(origins of ``WEBCHAT_ALLOWED_ORIGINS`` only) and sends it through its own socket; otherwise the
page shows the code for the citizen to type into the chat (``rasa_runtime/channels/login_confirmation.py``).
Failed or cancelled logins grant nothing and are reported to the conversation directly through
Rasa's HTTP API (``rasa_api.notify_conversation``). Logs carry reason codes only, never personal
data. The pages speak the conversation's language: German, or English when the signed ticket says
``lang: en`` (kept with the pending login for the IdP's answer; texts in ``texts.py``).
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
from pathlib import Path
from typing import Optional

from aiohttp import web
from saml2 import samlp

from buergerassistent import identity as ids
from buergerassistent import metrics
from buergerassistent.http_security import OPENER_POLICY, security_headers_middleware
from buergerassistent.identity import LoginRejected, rejected

from . import texts
from .oidc_rp import RelyingParty
from .rasa_api import notify_conversation
from .saml_sp import ServiceProvider
from .settings import LoginSettings

logger = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", LoginSettings)
SP = web.AppKey("sp", ServiceProvider)
RP = web.AppKey("rp", RelyingParty)
TASKS = web.AppKey("tasks", set)
STATIC = Path(__file__).parent / "static"
RESULT_SCRIPT = "/login/static/login-result.js"
WARNING = texts.say("de", "warning")


def page(title: str, message: str, status: int = 200, body_extra: str = "", lang: str = "de") -> web.Response:
    text = f"""<!doctype html>
<html lang="{texts.html_lang(lang)}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{html.escape(title)}</title></head>
<body><main><h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>{body_extra}</main></body></html>"""
    return web.Response(
        text=text,
        status=status,
        content_type="text/html",
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


def rejected_page(exc: LoginRejected, status: int = 400, lang: str = "de") -> web.Response:
    return page(texts.say(lang, "rejected_title"), texts.refusal(exc, lang), status, lang=lang)


def _chat_line(conversation_id: str, lang: str = "de") -> str:
    label, channel = ids.chat_label(conversation_id), ids.channel_name(conversation_id)
    return (
        f'<p>{html.escape(texts.say(lang, "chat_for"))} <strong id="chat-label">{html.escape(label)}</strong> '
        f"({html.escape(channel)}). {html.escape(texts.say(lang, 'chat_same'))}</p>"
    )


def start_page(
    conversation_id: str, url: str, fields: Optional[dict[str, str]] = None, lang: str = "de"
) -> web.Response:
    """Which chat this login is for, the warning, and the way on to the IdP (a button; no script:
    the citizen reads the page before going on). SAML: a POST form; OIDC: a link."""
    go_on_text = html.escape(texts.say(lang, "continue"))
    if fields is None:
        go_on = f'<p><a id="continue" href="{html.escape(url)}">{go_on_text}</a></p>'
    else:
        inputs = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in fields.items()
        )
        go_on = (
            f'<form method="post" action="{html.escape(url)}" id="sso">{inputs}'
            f'<button type="submit">{go_on_text}</button></form>'
        )
    warning = html.escape(texts.say(lang, "warning"))
    extra = f"{_chat_line(conversation_id, lang)}<p><strong>{warning}</strong></p>{go_on}"
    return page(texts.say(lang, "start_title"), texts.say(lang, "start_message"), body_extra=extra, lang=lang)


def handover_origins(settings: LoginSettings) -> tuple[list[str], bool]:
    """(portal origins the result page may hand the code to, whether loopback pages may). A
    wildcard hands it to nobody automatically: any page that opened the login window could read it."""
    origins = settings.webchat_origins
    if "*" in origins:
        return [], False
    return list(origins), not origins


def result_page(settings: LoginSettings, conversation_id: str, code: str, lang: str = "de") -> web.Response:
    origins, loopback = handover_origins(settings)
    label, channel = ids.chat_label(conversation_id), ids.channel_name(conversation_id)

    def t(key: str) -> str:
        return html.escape(texts.say(lang, key))

    extra = (
        f"<p>{t('code_intro')} ({html.escape(label)}, {html.escape(channel)}):</p>"
        f'<p class="code"><strong id="login-code">{html.escape(code)}</strong></p>'
        f"<p>{t('code_valid')} <strong>{t('code_secret')}</strong> {t('code_then')}</p>"
        f"<p>{t('code_auto')}</p>"
        f'<p id="login-done" hidden>{t("code_done")}</p>'
        f'<div id="login-handover" hidden data-code="{html.escape(code)}" '
        f'data-origins="{html.escape(json.dumps(origins))}" data-loopback="{"1" if loopback else "0"}"></div>'
        f'<script src="{RESULT_SCRIPT}"></script>'
    )
    return page(texts.say(lang, "result_title"), texts.say(lang, "result_message"), body_extra=extra, lang=lang)


def _unchecked_language(request: web.Request) -> str:
    """The language a refused ticket asks for (its signature may be bad, or it expired): only
    which of two languages a refusal page speaks, nothing else is taken from it."""
    import jwt

    try:
        claims = jwt.decode(request.query.get("ticket", ""), options={"verify_signature": False})
    except jwt.PyJWTError:
        return "de"
    return ids.page_language(claims if isinstance(claims, dict) else {})


async def result_script(_request: web.Request) -> web.Response:
    return web.Response(
        body=(STATIC / "login-result.js").read_bytes(),
        content_type="application/javascript",
        charset="utf-8",
        headers={"Cache-Control": "no-cache"},
    )


def _notify_later(request: web.Request, conversation_id: str) -> None:
    """Tell the conversation after the browser got its page (Rasa may take a few seconds)."""
    settings = request.app[SETTINGS]
    task = asyncio.create_task(notify_conversation(settings.rasa_url, settings.rasa_api_token, conversation_id))
    request.app[TASKS].add(task)
    task.add_done_callback(request.app[TASKS].discard)


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "protocol": request.app[SETTINGS].protocol})


async def saml_metadata(request: web.Request) -> web.Response:
    xml = await asyncio.to_thread(request.app[SP].metadata_xml)
    return web.Response(text=xml, content_type="application/samlmetadata+xml")


async def start(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    conversation_id = request.match_info["conversation"]
    try:
        claims = ids.consume_ticket(request.query.get("ticket", ""), conversation_id)
    except LoginRejected as exc:
        logger.info("login start refused: %s", exc.reason)
        return rejected_page(exc, 403, _unchecked_language(request))
    level = claims["lvl"]
    lang = ids.page_language(claims)
    # The citizen may pick the way in where both are configured (?protocol=oidc|saml).
    protocol = request.query.get("protocol") or settings.protocol
    if protocol not in settings.available_protocols:
        logger.warning("login start: protocol %s is not configured", protocol)
        return page(texts.say(lang, "not_configured_title"), texts.say(lang, "not_configured"), 503, lang=lang)
    if protocol == "oidc":
        state = ids.start_pending(conversation_id, level, "oidc", lang=lang)
        url, secret_values = await request.app[RP].start(level, state)
        # The nonce and PKCE verifier stay on the server, keyed by the random state.
        ids.set_pending_secrets(state, secret_values)
        logger.info("login started (oidc, %s)", level)
        return start_page(conversation_id, url, lang=lang)
    state = ids.start_pending(conversation_id, level, "saml", lang=lang)
    request_id, url, fields = await asyncio.to_thread(request.app[SP].authn_request, level, state)
    ids.set_pending_request_id(state, request_id)
    logger.info("login started (saml, %s)", level)
    return start_page(conversation_id, url, fields, lang=lang)


def _response_id(saml_response: str) -> Optional[str]:
    """The Response ID, read before verification only to refuse replays early."""
    import base64

    try:
        return samlp.response_from_string(base64.b64decode(saml_response)).id
    except Exception:
        return None


async def _finish(
    request: web.Request,
    conversation_id: str,
    level_required: str,
    protocol: str,
    result: ids.Identity | LoginRejected,
    lang: str = "de",
) -> web.Response:
    if isinstance(result, LoginRejected):
        achieved = getattr(result, "level_achieved", None)
        ids.record_outcome(conversation_id, result.reason, level_required, achieved)
        logger.info("login failed (%s): %s", protocol, result.reason)
        metrics.LOGINS.labels(protocol=protocol, outcome=str(result.reason)).inc()
        _notify_later(request, conversation_id)
        return rejected_page(result, 403, lang)
    # Not attached to the conversation yet: whoever completed this login may not be the person
    # whose chat the link came from. The chat must hand back the code (login_confirmation).
    code = ids.complete_login(conversation_id, result)
    metrics.LOGINS.labels(protocol=protocol, outcome="success").inc()
    logger.info(
        "login completed, awaiting confirmation in the chat (%s, %s%s)",
        protocol,
        result.level,
        ", temporary" if result.temporary else "",
    )
    return result_page(request.app[SETTINGS], conversation_id, code, lang)


async def saml_acs(request: web.Request) -> web.Response:
    form = await request.post()
    saml_response = str(form.get("SAMLResponse") or "")
    state = str(form.get("RelayState") or "")
    if not saml_response:
        return rejected_page(rejected("response_invalid"))
    response_id = _response_id(saml_response)
    if response_id is None:
        logger.info("SAML response refused: response_invalid")
        return rejected_page(rejected("response_invalid"))
    if ids.is_used(response_id, "saml-response"):
        logger.info("SAML response refused: response_replayed")
        return rejected_page(rejected("response_replayed"))
    pend = ids.peek_pending(state)
    if pend is None or pend["protocol"] != "saml" or not pend["request_id"]:
        logger.info("SAML response refused: response_unknown")
        return rejected_page(rejected("response_unknown"))
    try:
        result = await asyncio.to_thread(
            request.app[SP].parse_response, saml_response, pend["request_id"], pend["level"]
        )
    except LoginRejected as exc:
        if exc.reason not in ("cancelled", "idp_error", "level_too_low"):
            # Forged, unsigned, wrong audience, expired, for another request: the pending login
            # stays open for the real answer; the conversation hears nothing from a forger.
            logger.info("SAML response refused: %s", exc.reason)
            return rejected_page(exc, lang=pend["lang"])
        result = exc
    try:
        ids.mark_used(response_id, "saml-response", pend["expires_at"])
        ids.take_pending(state, "saml")
    except LoginRejected as exc:
        logger.info("SAML response refused: %s", exc.reason)
        return rejected_page(exc, lang=pend["lang"])
    return await _finish(request, pend["conversation_id"], pend["level"], "saml", result, pend["lang"])


async def oidc_callback(request: web.Request) -> web.Response:
    state = request.query.get("state", "")
    try:
        pend = ids.take_pending(state, "oidc")
    except LoginRejected as exc:
        logger.info("OIDC callback refused: %s", exc.reason)
        return rejected_page(exc)
    error = request.query.get("error")
    if error:
        reason = "cancelled" if error in ("access_denied", "login_required", "interaction_required") else "idp_error"
        return await _finish(request, pend["conversation_id"], pend["level"], "oidc", rejected(reason), pend["lang"])
    try:
        result = await request.app[RP].complete(request.query.get("code", ""), pend["secrets"], pend["level"])
    except LoginRejected as exc:
        if exc.reason != "level_too_low":
            logger.info("OIDC callback refused: %s", exc.reason)
            return rejected_page(exc, lang=pend["lang"])
        result = exc
    return await _finish(request, pend["conversation_id"], pend["level"], "oidc", result, pend["lang"])


async def logout(request: web.Request) -> web.Response:
    conversation_id = request.match_info["conversation"]
    try:
        claims = ids.consume_ticket(request.query.get("ticket", ""), conversation_id, purpose=ids.LOGOUT_PURPOSE)
    except LoginRejected as exc:
        return rejected_page(exc, 403, _unchecked_language(request))
    ids.logout(claims["sub"])
    lang = ids.page_language(claims)
    return page(texts.say(lang, "logout_title"), texts.say(lang, "logout"), lang=lang)


async def _drain(app: web.Application) -> None:
    if app[TASKS]:
        await asyncio.gather(*app[TASKS], return_exceptions=True)


def create_app(settings: Optional[LoginSettings] = None) -> web.Application:
    settings = settings or LoginSettings()
    app = web.Application(middlewares=[security_headers_middleware])
    # No Cross-Origin-Opener-Policy: the result page hands the code to the chat's window.opener.
    app[OPENER_POLICY] = ""
    app[SETTINGS] = settings
    app[SP] = ServiceProvider(settings)
    app[RP] = RelyingParty(settings)
    app[TASKS] = set()
    app.on_shutdown.append(_drain)
    metrics.aiohttp_route(app)  # GET /metrics with BA_METRICS_TOKEN
    app.add_routes(
        [
            web.get("/health", health),
            web.get("/login/saml/metadata", saml_metadata),
            web.get("/login/start/{conversation}", start),
            web.post("/login/saml/acs", saml_acs),
            web.get("/login/oidc/callback", oidc_callback),
            web.get("/login/logout/{conversation}", logout),
            web.get(RESULT_SCRIPT, result_script),
        ]
    )
    return app
