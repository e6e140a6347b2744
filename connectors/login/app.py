"""HTTP routes of the login service (aiohttp).

    GET  /login/saml/metadata                 our SAML SP metadata
    GET  /login/start/{conversation}?ticket=   check the chat's login ticket, send the browser to the IdP
    POST /login/saml/acs                      SAML response (HTTP-POST binding)
    GET  /login/oidc/callback                 OIDC authorization response
    GET  /login/logout/{conversation}?ticket=  end the local session (ticket purpose "logout-ticket")
    GET  /health

After a login (or a failed one whose conversation is known) the conversation is told through
Rasa's HTTP API (``rasa_api.notify_conversation``), and the assistant continues in the chat.
The browser gets a short German page. Logs carry reason codes only, never personal data.
"""

from __future__ import annotations

import asyncio
import html
import logging
from typing import Optional

from aiohttp import web
from saml2 import samlp

from actions import identity as ids
from actions.identity import LoginRejected, rejected
from connectors.http_security import security_headers_middleware

from .oidc_rp import RelyingParty
from .rasa_api import notify_conversation
from .saml_sp import ServiceProvider
from .settings import LoginSettings

logger = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", LoginSettings)
SP = web.AppKey("sp", ServiceProvider)
RP = web.AppKey("rp", RelyingParty)
TASKS = web.AppKey("tasks", set)


def page(title: str, message: str, status: int = 200, body_extra: str = "") -> web.Response:
    text = f"""<!doctype html>
<html lang="de"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{html.escape(title)}</title></head>
<body><main><h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>{body_extra}</main></body></html>"""
    return web.Response(text=text, status=status, content_type="text/html",
                        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


def rejected_page(exc: LoginRejected, status: int = 400) -> web.Response:
    return page("Anmeldung nicht möglich", exc.message, status)


# Sends the form on to the IdP. A file, not an inline script: the Content-Security-Policy
# (connectors/http_security.py) allows scripts from this origin only.
AUTOSUBMIT_PATH = "/login/assets/autosubmit.js"
AUTOSUBMIT_JS = 'document.getElementById("sso").submit();\n'


async def autosubmit_script(_request: web.Request) -> web.Response:
    return web.Response(text=AUTOSUBMIT_JS, content_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=3600"})


def post_form(url: str, fields: dict[str, str]) -> web.Response:
    inputs = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in fields.items()
    )
    form = (f'<form method="post" action="{html.escape(url)}" id="sso">{inputs}'
            '<button type="submit">Weiter zum Nutzerkonto</button></form>'
            f'<script src="{AUTOSUBMIT_PATH}"></script>')
    return page("Weiterleitung zum Nutzerkonto", "Sie werden zur Anmeldung mit Ihrem Nutzerkonto weitergeleitet.",
                body_extra=form)


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
        return rejected_page(exc, 403)
    level = claims["lvl"]
    # The citizen may pick the way in where both are configured (?protocol=oidc|saml).
    protocol = request.query.get("protocol") or settings.protocol
    if protocol not in settings.available_protocols:
        logger.warning("login start: protocol %s is not configured", protocol)
        return page("Anmeldung nicht eingerichtet",
                    "Die Anmeldung mit dem Nutzerkonto ist hier nicht eingerichtet. Bitte wenden Sie sich an "
                    "die Verwaltung oder stellen Sie den Antrag auf anderem Weg.", 503)
    if protocol == "oidc":
        state = ids.start_pending(conversation_id, level, "oidc")
        url, secret_values = await request.app[RP].start(level, state)
        # The nonce and PKCE verifier stay on the server, keyed by the random state.
        ids.set_pending_secrets(state, secret_values)
        logger.info("login started (oidc, %s)", level)
        raise web.HTTPFound(url, headers={"Cache-Control": "no-store"})
    state = ids.start_pending(conversation_id, level, "saml")
    request_id, url, fields = await asyncio.to_thread(request.app[SP].authn_request, level, state)
    ids.set_pending_request_id(state, request_id)
    logger.info("login started (saml, %s)", level)
    return post_form(url, fields)


def _response_id(saml_response: str) -> Optional[str]:
    """The Response ID, read before verification only to refuse replays early."""
    import base64

    try:
        return samlp.response_from_string(base64.b64decode(saml_response)).id
    except Exception:
        return None


async def _finish(request: web.Request, conversation_id: str, level_required: str, protocol: str,
                  result: "ids.Identity | LoginRejected") -> web.Response:
    if isinstance(result, LoginRejected):
        achieved = getattr(result, "level_achieved", None)
        ids.record_outcome(conversation_id, result.reason, level_required, achieved)
        logger.info("login failed (%s): %s", protocol, result.reason)
        _notify_later(request, conversation_id)
        return rejected_page(result, 403)
    ids.store_identity(conversation_id, result)
    logger.info("login succeeded (%s, %s%s)", protocol, result.level, ", temporary" if result.temporary else "")
    _notify_later(request, conversation_id)
    return page("Sie sind angemeldet",
                "Sie sind jetzt angemeldet. Bitte kehren Sie zum Chat zurück; dort geht es weiter.")


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
        result = await asyncio.to_thread(request.app[SP].parse_response, saml_response, pend["request_id"],
                                         pend["level"])
    except LoginRejected as exc:
        if exc.reason not in ("cancelled", "idp_error", "level_too_low"):
            # Forged, unsigned, wrong audience, expired, for another request: the pending login
            # stays open for the real answer; the conversation hears nothing from a forger.
            logger.info("SAML response refused: %s", exc.reason)
            return rejected_page(exc)
        result = exc
    try:
        ids.mark_used(response_id, "saml-response", pend["expires_at"])
        ids.take_pending(state, "saml")
    except LoginRejected as exc:
        logger.info("SAML response refused: %s", exc.reason)
        return rejected_page(exc)
    return await _finish(request, pend["conversation_id"], pend["level"], "saml", result)


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
        return await _finish(request, pend["conversation_id"], pend["level"], "oidc", rejected(reason))
    try:
        result = await request.app[RP].complete(request.query.get("code", ""), pend["secrets"], pend["level"])
    except LoginRejected as exc:
        if exc.reason != "level_too_low":
            logger.info("OIDC callback refused: %s", exc.reason)
            return rejected_page(exc)
        result = exc
    return await _finish(request, pend["conversation_id"], pend["level"], "oidc", result)


async def logout(request: web.Request) -> web.Response:
    conversation_id = request.match_info["conversation"]
    try:
        claims = ids.consume_ticket(request.query.get("ticket", ""), conversation_id, purpose=ids.LOGOUT_PURPOSE)
    except LoginRejected as exc:
        return rejected_page(exc, 403)
    ids.logout(claims["sub"])
    return page("Abgemeldet", "Sie sind abgemeldet. Ihre Daten aus dem Nutzerkonto sind in diesem Gespräch gelöscht.")


async def _drain(app: web.Application) -> None:
    if app[TASKS]:
        await asyncio.gather(*app[TASKS], return_exceptions=True)


def create_app(settings: Optional[LoginSettings] = None) -> web.Application:
    settings = settings or LoginSettings()
    app = web.Application(middlewares=[security_headers_middleware])
    app[SETTINGS] = settings
    app[SP] = ServiceProvider(settings)
    app[RP] = RelyingParty(settings)
    app[TASKS] = set()
    app.on_shutdown.append(_drain)
    app.add_routes([
        web.get("/health", health),
        web.get("/login/saml/metadata", saml_metadata),
        web.get("/login/start/{conversation}", start),
        web.post("/login/saml/acs", saml_acs),
        web.get("/login/oidc/callback", oidc_callback),
        web.get("/login/logout/{conversation}", logout),
        web.get(AUTOSUBMIT_PATH, autosubmit_script),
    ])
    return app
