"""Insights dashboard for staff (issue 22, docs/insights.md): ``python -m content.dashboard``
(``make dashboard``).

German, accessible (every chart is an SVG with a text alternative next to a data table), behind a
login of its own: an OIDC client (authorization code + PKCE, ``state``, ``nonce``; authlib, the ID
token verified with joserfc) against the staff identity provider (``INSIGHTS_OIDC_*``); only the
accounts in ``INSIGHTS_STAFF`` get in. The session is a signed cookie (``buergerassistent.signing``,
8 hours, HttpOnly, SameSite=Lax); every form carries a token bound to it.

The figures come from the insights store (``buergerassistent/insights.py``). Questions that found
nothing link into the review inbox (``make review``, ``content/review.py``): with two clicks (choose
the procedure, press a button) an editor adds the question as a training example for it (masked,
placeholders filled with harmless examples; the inbox then drops the entry) or as a search word
(``keywords``) of its catalogue entry. Afterwards: ``make check-content`` and ``make reload``.

This is a content tool like ``make review``: it writes into the repository it runs from
(``nlu/data``, ``catalogue/procedures``), so it runs on the editors' checkout, not in the
citizens' deployment.
"""

from __future__ import annotations

import asyncio
import hmac
import html
import logging
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Optional
from urllib.parse import quote, urlencode

import requests
from aiohttp import web
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet

from buergerassistent import insights, signing
from buergerassistent.http_security import security_headers_middleware
from buergerassistent.masking import fill_placeholders
from buergerassistent.settings import REPO_ROOT, get_settings

logger = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "dashboard_static"
COOKIE = "ba_insights"
LOGIN_COOKIE = "ba_insights_login"
SESSION_PURPOSE = "insights-dashboard"
LOGIN_PURPOSE = "insights-dashboard-login"
SESSION_SECONDS = 8 * 3600
PERIODS = {"7": "7 Tage", "28": "28 Tage", "90": "90 Tage", "365": "1 Jahr"}
OUTCOME_LABELS = {"answer": "eine Antwort", "choice": "Auswahl angeboten", "none": "nichts gefunden"}
LOGIN_LABELS = {
    "success": "erfolgreich",
    "cancelled": "abgebrochen",
    "level_too_low": "Vertrauensniveau zu niedrig",
    "response_invalid": "ungültige Antwort",
}
RATING_LABELS = {"5": "hat geholfen (5)", "4": "4", "3": "teilweise (3)", "2": "2", "1": "nicht geholfen (1)"}


@dataclass
class DashboardConfig:
    issuer: str
    client_id: str
    client_secret: str
    base_url: str
    staff: frozenset[str]
    nlu_dir: Path = REPO_ROOT / "nlu" / "data"
    catalogue_dir: Path = REPO_ROOT / "catalogue" / "procedures"
    review_dir: Optional[Path] = None

    @classmethod
    def from_settings(cls) -> DashboardConfig:
        s = get_settings()
        base = s.insights_dashboard_url or f"http://{s.ba_host}:{s.insights_dashboard_port}"
        return cls(
            issuer=s.insights_oidc_issuer,
            client_id=s.insights_oidc_client_id,
            client_secret=s.insights_oidc_client_secret,
            base_url=base.rstrip("/"),
            staff=frozenset(x.strip() for x in s.insights_staff.split(",") if x.strip()),
            review_dir=s.ba_review_dir or s.var_dir / "review",
        )

    @property
    def redirect_uri(self) -> str:
        return f"{self.base_url}/oidc/callback"


class StaffLogin:
    """OIDC authorization code flow with PKCE for staff (blocking; run in a thread)."""

    def __init__(self, config: DashboardConfig) -> None:
        self.config = config

    @cached_property
    def provider(self) -> dict[str, Any]:
        response = requests.get(self.config.issuer.rstrip("/") + "/.well-known/openid-configuration", timeout=10)
        response.raise_for_status()
        return response.json()

    def _session(self) -> OAuth2Session:
        c = self.config
        return OAuth2Session(
            c.client_id,
            c.client_secret,
            scope="openid",
            redirect_uri=c.redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic",
        )

    def start(self) -> tuple[str, dict[str, str]]:
        state, nonce, verifier = generate_token(24), generate_token(24), generate_token(64)
        url, _ = self._session().create_authorization_url(
            self.provider["authorization_endpoint"], state=state, nonce=nonce, code_verifier=verifier
        )
        return url, {"state": state, "nonce": nonce, "verifier": verifier}

    def complete(self, code: str, secrets: dict[str, str]) -> str:
        """The staff member's ``sub``; raises PermissionError when the answer is not valid."""
        try:
            token = self._session().fetch_token(
                self.provider["token_endpoint"],
                grant_type="authorization_code",
                code=code,
                code_verifier=secrets["verifier"],
            )
            keys = KeySet.import_key_set(requests.get(self.provider["jwks_uri"], timeout=10).json())
            claims = jwt.decode(token["id_token"], keys).claims
            jwt.JWTClaimsRegistry(
                leeway=60,
                iss={"essential": True, "value": self.provider["issuer"]},
                aud={"essential": True, "value": self.config.client_id},
                nonce={"essential": True, "value": secrets["nonce"]},
                exp={"essential": True},
                sub={"essential": True},
            ).validate(claims)
        except Exception as exc:  # noqa: BLE001 - JoseError, KeyError, HTTP errors: no login
            raise PermissionError(type(exc).__name__) from None
        return str(claims["sub"])


CONFIG = web.AppKey("config", DashboardConfig)
STORE = web.AppKey("store", insights.Insights)
LOGIN = web.AppKey("login", StaffLogin)


def _csrf(session_token: str) -> str:
    return hmac.new(signing.secret_key(), session_token.encode(), "sha256").hexdigest()[:32]


def _staff(request: web.Request) -> Optional[str]:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        claims = signing.verify(token, SESSION_PURPOSE)
    except signing.InvalidToken:
        return None
    sub = claims.get("sub")
    return sub if sub in request.app[CONFIG].staff else None


def page(title: str, body: str, staff: Optional[str] = None, status: int = 200) -> web.Response:
    logout = (
        '<form method="post" action="/logout" class="logout"><button type="submit">Abmelden</button></form>'
        if staff
        else ""
    )
    text = f"""<!doctype html>
<html lang="de">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} – Bürgerassistent</title>
<link rel="stylesheet" href="/static/dashboard.css"></head>
<body>
<a class="skip" href="#inhalt">Zum Inhalt springen</a>
<header><p class="brand">Bürgerassistent · Auswertung</p>{logout}</header>
<main id="inhalt">
<h1>{html.escape(title)}</h1>
{body}
</main>
</body></html>"""
    return web.Response(text=text, content_type="text/html", status=status)


# --------------------------------------------------------------------------- charts and tables


def bar_chart(title: str, rows: list[tuple[str, float]], chart_id: str, unit: str = "") -> str:
    """A horizontal bar chart (SVG, no script, no inline style) with its data table."""
    if not rows:
        return f"<section aria-labelledby='{chart_id}'><h2 id='{chart_id}'>{html.escape(title)}</h2><p>Keine Daten im Zeitraum.</p></section>"
    top = max(v for _, v in rows) or 1
    height = 28 * len(rows) + 8
    bars = []
    for i, (label, value) in enumerate(rows):
        y = 4 + i * 28
        width = max(2, round(300 * value / top))
        bars.append(
            f'<text x="0" y="{y + 17}" class="label">{html.escape(label[:40])}</text>'
            f'<rect x="260" y="{y + 3}" width="{width}" height="20" class="bar"></rect>'
            f'<text x="{266 + width}" y="{y + 17}" class="value">{_num(value)}{unit}</text>'
        )
    summary = "; ".join(f"{label}: {_num(v)}{unit}" for label, v in rows)
    table = "".join(f"<tr><th scope='row'>{html.escape(label)}</th><td>{_num(v)}{unit}</td></tr>" for label, v in rows)
    return (
        f"<section aria-labelledby='{chart_id}'><h2 id='{chart_id}'>{html.escape(title)}</h2>"
        f'<svg role="img" aria-labelledby="{chart_id}-t" viewBox="0 0 640 {height}" class="chart">'
        f'<title id="{chart_id}-t">{html.escape(title)}: {html.escape(summary)}</title>{"".join(bars)}</svg>'
        f"<details><summary>Zahlen als Tabelle</summary><table><thead><tr><th scope='col'>Wert</th>"
        f"<th scope='col'>Anzahl</th></tr></thead><tbody>{table}</tbody></table></details></section>"
    )


def _num(value: Optional[float]) -> str:
    if value is None:
        return "–"
    if float(value).is_integer():
        return f"{int(value):d}".replace(",", ".")
    return f"{value:.2f}".replace(".", ",")


def _minutes(seconds: Optional[float]) -> str:
    if seconds is None:
        return "–"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def _procedure_name(pid: str) -> str:
    from buergerassistent.catalogue import default_catalogue

    proc = default_catalogue().get(pid)
    return proc.name if proc is not None else pid


def _curated() -> list[tuple[str, str]]:
    from buergerassistent.catalogue import default_catalogue

    return sorted(((p.id, p.name) for p in default_catalogue() if getattr(p, "curated", False)), key=lambda x: x[1])


def render_dashboard(figures: dict, request: web.Request, csrf: str, days: str, period: str, channel: str) -> str:
    t = figures["total"]
    channels = request.app[STORE].channels()
    options = "".join(
        f"<option value='{k}'{' selected' if k == days else ''}>{html.escape(v)}</option>" for k, v in PERIODS.items()
    )
    channel_options = "<option value=''>alle Kanäle</option>" + "".join(
        f"<option value='{html.escape(c)}'{' selected' if c == channel else ''}>{html.escape(c)}</option>"
        for c in channels
    )
    period_options = "".join(
        f"<option value='{k}'{' selected' if k == period else ''}>{v}</option>"
        for k, v in (("day", "Tag"), ("week", "Woche"))
    )
    filters = (
        "<form method='get' action='/' class='filters'>"
        f"<label for='days'>Zeitraum</label><select id='days' name='days'>{options}</select>"
        f"<label for='period'>je</label><select id='period' name='period'>{period_options}</select>"
        f"<label for='channel'>Kanal</label><select id='channel' name='channel'>{channel_options}</select>"
        "<button type='submit'>Anzeigen</button></form>"
    )
    satisfaction = t["satisfaction_mean"]
    key_figures = (
        "<section aria-labelledby='kennzahlen'><h2 id='kennzahlen'>Kennzahlen im Zeitraum</h2><dl class='figures'>"
        f"<div><dt>Gespräche</dt><dd>{_num(t['conversations'])}</dd></div>"
        f"<div><dt>nichts gefunden</dt><dd>{_num(t['discovery']['none'])}</dd></div>"
        f"<div><dt>Anträge abgeschickt</dt><dd>{_num(sum(t['submissions'].values()))}</dd></div>"
        f"<div><dt>Formulare abgebrochen</dt><dd>{_num(sum(t['forms_abandoned'].values()))}</dd></div>"
        f"<div><dt>Mittlere Dauer bis zum fertigen Formular (Median)</dt><dd>{_minutes(t['median_form_seconds'])}</dd></div>"
        f"<div><dt>Zufriedenheit (1–5, {_num(t['feedback_count'])} Bewertungen)</dt><dd>{_num(satisfaction)}</dd></div>"
        "</dl></section>"
    )
    per = figures["periods"]
    label = "Tag" if period == "day" else "Woche"
    timeline_rows = "".join(
        f"<tr><th scope='row'>{html.escape(k)}</th><td>{v['conversations']}</td><td>{v['discovery']['answer']}</td>"
        f"<td>{v['discovery']['choice']}</td><td>{v['discovery']['none']}</td>"
        f"<td>{sum(v['forms_started'].values())}</td><td>{sum(v['forms_completed'].values())}</td>"
        f"<td>{sum(v['forms_abandoned'].values())}</td><td>{sum(v['submissions'].values())}</td>"
        f"<td>{v['login'].get('success', 0)}</td><td>{sum(n for r, n in v['login'].items() if r != 'success')}</td>"
        f"<td>{_minutes(v['median_form_seconds'])}</td><td>{_num(v['satisfaction_mean'])}</td></tr>"
        for k, v in per.items()
    )
    timeline = (
        f"<section aria-labelledby='verlauf'><h2 id='verlauf'>Verlauf je {label}</h2><div class='scroll' tabindex='0' role='region' aria-label='Tabelle des Verlaufs, waagerecht verschiebbar'><table>"
        f"<thead><tr><th scope='col'>{label}</th><th scope='col'>Gespräche</th><th scope='col'>eine Antwort</th>"
        "<th scope='col'>Auswahl</th><th scope='col'>nichts gefunden</th><th scope='col'>Formulare begonnen</th>"
        "<th scope='col'>fertig</th><th scope='col'>abgebrochen</th><th scope='col'>Anträge</th>"
        "<th scope='col'>Anmeldung erfolgreich</th><th scope='col'>Anmeldung gescheitert</th>"
        "<th scope='col'>Median Formular</th><th scope='col'>Zufriedenheit</th></tr></thead>"
        f"<tbody>{timeline_rows or '<tr><td colspan=13>Keine Daten im Zeitraum.</td></tr>'}</tbody></table></div></section>"
    )
    charts = [
        bar_chart(f"Gespräche je {label}", [(k, v["conversations"]) for k, v in per.items()], "c-verlauf"),
        bar_chart("Gespräche je Kanal", sorted(t["by_channel"].items(), key=lambda kv: -kv[1]), "c-kanal"),
        bar_chart(
            "Ergebnis der Suche nach der Leistung",
            [(OUTCOME_LABELS[k], t["discovery"][k]) for k in insights.DISCOVERY_OUTCOMES],
            "c-suche",
        ),
        bar_chart(
            "Gefragte Leistungen",
            [(_procedure_name(k), n) for k, n in t["procedures"].most_common(15)],
            "c-leistungen",
        ),
        bar_chart(
            "Formulare: abgebrochen bei Feld",
            [
                (f"{_procedure_name(k.split('/')[0])}: {k.split('/')[1] or '–'}", n)
                for k, n in t["abandoned_at"].most_common(15)
            ],
            "c-abbruch",
        ),
        bar_chart(
            "Anmeldungen nach Ergebnis",
            [(LOGIN_LABELS.get(k, k), n) for k, n in t["login"].most_common()],
            "c-anmeldung",
        ),
        bar_chart(
            "Bewertungen",
            [(RATING_LABELS[k], t["ratings"].get(k, 0)) for k in ("5", "4", "3", "2", "1") if t["ratings"].get(k)],
            "c-bewertung",
        ),
    ]
    forms_rows = "".join(
        f"<tr><th scope='row'>{html.escape(_procedure_name(p))}</th><td>{n}</td><td>{t['forms_completed'].get(p, 0)}</td>"
        f"<td>{t['forms_abandoned'].get(p, 0)}</td><td>{t['submissions'].get(p, 0)}</td></tr>"
        for p, n in t["forms_started"].most_common()
    )
    forms = (
        "<section aria-labelledby='formulare'><h2 id='formulare'>Formulare</h2><table><thead><tr>"
        "<th scope='col'>Leistung</th><th scope='col'>begonnen</th><th scope='col'>fertig</th>"
        "<th scope='col'>abgebrochen</th><th scope='col'>abgeschickt</th></tr></thead>"
        f"<tbody>{forms_rows or '<tr><td colspan=5>Keine Formulare im Zeitraum.</td></tr>'}</tbody></table></section>"
    )
    procedure_options = "".join(
        f"<option value='{html.escape(pid)}'>{html.escape(name)}</option>" for pid, name in _curated()
    )
    nothing_rows = []
    for i, item in enumerate(figures["nothing_found"]):
        text = item["text"]
        nothing_rows.append(
            f"<li><p class='question'><q>{html.escape(text)}</q> <span class='count'>{item['count']}×</span> "
            f"<span class='inbox'>Posteingang: <code>{_entry_id(text)}</code></span></p>"
            f"<form method='post' action='/review' class='review'>"
            f"<input type='hidden' name='csrf' value='{csrf}'><input type='hidden' name='text' value='{html.escape(text)}'>"
            f"<label for='proc-{i}'>Gehört zur Leistung</label>"
            f"<select id='proc-{i}' name='procedure' required><option value=''>– bitte wählen –</option>{procedure_options}</select>"
            "<button type='submit' name='as' value='example'>Als Trainingsbeispiel übernehmen</button>"
            "<button type='submit' name='as' value='keyword'>Als Suchwort der Leistung übernehmen</button>"
            "</form></li>"
        )
    nothing = (
        "<section aria-labelledby='nichts'><h2 id='nichts'>Fragen, zu denen nichts gefunden wurde</h2>"
        "<p>Persönliche Angaben sind ersetzt (zum Beispiel «Name»). Wählen Sie die passende Leistung und "
        "übernehmen Sie die Frage als Trainingsbeispiel oder als Suchwort. Danach: "
        "<code>make check-content</code> und <code>make reload</code>.</p>"
        f"<ol class='nothing'>{''.join(nothing_rows) or '<li>Keine im Zeitraum.</li>'}</ol></section>"
    )
    comments = request.app[STORE].comments(since=figures.get("since"))
    comment_items = "".join(
        f"<li><q>{html.escape(c['text'])}</q> <span class='count'>{html.escape(c['day'])}"
        f"{', Bewertung ' + _num(c['rating']) if c['rating'] else ''}</span></li>"
        for c in comments
    )
    comment_section = (
        "<section aria-labelledby='kommentare'><h2 id='kommentare'>Kommentare (maskiert)</h2>"
        f"<ul class='comments'>{comment_items or '<li>Keine Kommentare im Zeitraum.</li>'}</ul></section>"
    )
    return (
        filters + key_figures + "".join(charts[:3]) + nothing + "".join(charts[3:]) + forms + timeline + comment_section
    )


def _entry_id(text: str) -> str:
    from content.review import entry_id

    return entry_id(text)


# --------------------------------------------------------------------------- routes


async def dashboard(request: web.Request) -> web.StreamResponse:
    staff = _staff(request)
    if staff is None:
        if request.cookies.get(COOKIE):
            return page("Kein Zugang", "<p>Ihr Konto hat keinen Zugang zur Auswertung.</p>", status=403)
        raise web.HTTPFound("/login")
    days = request.query.get("days", "28")
    days = days if days in PERIODS else "28"
    period = "week" if request.query.get("period") == "week" else "day"
    channel = request.query.get("channel") or ""
    since = insights.default_since(int(days))
    store = request.app[STORE]
    figures = await asyncio.to_thread(store.figures, since, None, channel or None, period)
    figures["since"] = since
    body = await asyncio.to_thread(
        render_dashboard, figures, request, _csrf(request.cookies[COOKIE]), days, period, channel
    )
    notice = request.query.get("ok") or request.query.get("error")
    if notice:
        kind = "ok" if request.query.get("ok") else "error"
        body = f"<p class='notice {kind}' role='status'>{html.escape(notice)}</p>" + body
    return page("Wie der Bürgerassistent hilft", body, staff)


async def login(request: web.Request) -> web.StreamResponse:
    url, secrets = await asyncio.to_thread(request.app[LOGIN].start)
    response = web.HTTPFound(url)
    response.set_cookie(
        LOGIN_COOKIE, signing.sign(secrets, LOGIN_PURPOSE, 600), httponly=True, samesite="Lax", path="/oidc"
    )
    return response


async def callback(request: web.Request) -> web.StreamResponse:
    try:
        secrets = signing.verify(request.cookies.get(LOGIN_COOKIE, ""), LOGIN_PURPOSE)
    except signing.InvalidToken:
        return page("Anmeldung abgelaufen", "<p>Bitte <a href='/login'>melden Sie sich erneut an</a>.</p>", status=400)
    if request.query.get("state") != secrets.get("state") or "code" not in request.query:
        return page("Anmeldung fehlgeschlagen", "<p><a href='/login'>Erneut anmelden</a></p>", status=400)
    try:
        sub = await asyncio.to_thread(request.app[LOGIN].complete, request.query["code"], secrets)
    except PermissionError as exc:
        logger.warning("dashboard login refused: %s", exc)
        return page("Anmeldung fehlgeschlagen", "<p><a href='/login'>Erneut anmelden</a></p>", status=400)
    response = web.HTTPFound("/")
    response.del_cookie(LOGIN_COOKIE, path="/oidc")
    response.set_cookie(
        COOKIE,
        signing.sign({"sub": sub}, SESSION_PURPOSE, SESSION_SECONDS),
        httponly=True,
        samesite="Lax",
        max_age=SESSION_SECONDS,
    )
    if sub not in request.app[CONFIG].staff:
        logger.info("dashboard: account without access")
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    response = page("Abgemeldet", "<p>Sie sind abgemeldet. <a href='/login'>Wieder anmelden</a></p>")
    response.del_cookie(COOKIE)
    return response


async def review(request: web.Request) -> web.StreamResponse:
    """The second click: the question becomes a training example or a search word."""
    if _staff(request) is None:
        raise web.HTTPForbidden()
    form = await request.post()
    if not hmac.compare_digest(str(form.get("csrf", "")), _csrf(request.cookies[COOKIE])):
        raise web.HTTPForbidden()
    text, procedure, kind = str(form.get("text", "")), str(form.get("procedure", "")), str(form.get("as", ""))
    config = request.app[CONFIG]
    if procedure not in dict(_curated()) or not text.strip():
        return _back(error="Bitte wählen Sie zuerst die passende Leistung.")
    try:
        if kind == "keyword":
            await asyncio.to_thread(add_keyword, config.catalogue_dir / f"{procedure}.yaml", text)
            message = f"„{text}“ ist jetzt ein Suchwort von „{_procedure_name(procedure)}“."
        else:
            where = await asyncio.to_thread(add_example, config, text, procedure)
            message = f"Als Trainingsbeispiel für „{_procedure_name(procedure)}“ übernommen ({where})."
    except ValueError as exc:
        return _back(error=f"Nicht übernommen: {exc}")
    return _back(ok=message + " Weiter: make check-content, dann make reload.")


def _back(**notice: str) -> web.StreamResponse:
    raise web.HTTPSeeOther("/?" + urlencode(notice, quote_via=quote))


def add_example(config: DashboardConfig, text: str, procedure: str) -> str:
    """Like ``python -m content.review assign <id> --procedure``: the masked question (placeholders
    filled with harmless examples) as an example of ``request_procedure``; the inbox entry is done."""
    import time

    from content.nlu_data import AppendError, append_example
    from content.review import entry_id, save_decision

    try:
        path, line = append_example("request_procedure", fill_placeholders(text), directory=config.nlu_dir)
    except AppendError as exc:
        raise ValueError(str(exc)) from None
    if config.review_dir is not None:
        save_decision(
            config.review_dir,
            {
                "id": entry_id(text),
                "action": "assign",
                "intent": "request_procedure",
                "procedure": procedure,
                "file": f"{path.name}:{line}",
                "at": time.strftime("%Y-%m-%d %H:%M"),
                "by": "dashboard",
            },
        )
    return f"{path.name}, Zeile {line}"


def add_keyword(path: Path, text: str) -> None:
    """Append ``text`` to the entry's ``keywords`` (ruamel round trip: the rest stays as it is)."""
    from ruamel.yaml import YAML

    word = fill_placeholders(text).strip().rstrip("?!.").strip()
    if "«" in text:
        raise ValueError("eine Frage mit persönlichen Angaben ist kein Suchwort")
    if not path.exists():
        raise ValueError("diese Leistung hat keine Katalogdatei")
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    data = yaml.load(path.read_text(encoding="utf-8"))
    keywords = data.get("keywords")
    if keywords is None:
        data["keywords"] = keywords = []
    if any(str(k).lower() == word.lower() for k in keywords):
        raise ValueError("schon ein Suchwort dieser Leistung")
    keywords.append(word)
    with path.open("w", encoding="utf-8") as fh:
        yaml.dump(data, fh)


async def static(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "dashboard.css", headers={"Content-Type": "text/css; charset=utf-8"})


def create_app(config: DashboardConfig, store: insights.Insights) -> web.Application:
    app = web.Application(middlewares=[security_headers_middleware])
    app[CONFIG] = config
    app[STORE] = store
    app[LOGIN] = StaffLogin(config)
    app.router.add_get("/", dashboard)
    app.router.add_get("/login", login)
    app.router.add_get("/oidc/callback", callback)
    app.router.add_post("/logout", logout)
    app.router.add_post("/review", review)
    app.router.add_get("/static/dashboard.css", static)
    return app


def main() -> int:
    logging.basicConfig(level=get_settings().log_level)
    config = DashboardConfig.from_settings()
    if not (config.issuer and config.client_id and config.client_secret):
        print(
            "INSIGHTS_OIDC_ISSUER, INSIGHTS_OIDC_CLIENT_ID und INSIGHTS_OIDC_CLIENT_SECRET fehlen: "
            "das Dashboard braucht die Anmeldung der Mitarbeitenden.",
            file=sys.stderr,
        )
        return 2
    web.run_app(
        create_app(config, insights.default_store()),
        host=get_settings().ba_host,
        port=get_settings().insights_dashboard_port,
        access_log=None,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
