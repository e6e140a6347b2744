"""Server-side identity of a conversation: who logged in through the service account, at which
trust level, until when.

The identity never lives in a Rasa slot: a citizen could set a slot by typing a payload such as
``/inform{"vorname": …}``. The login service (``login_service``) writes it here after it has
checked the IdP's response; the action server reads it with ``current_identity(conversation_id)``.
Both processes share one small SQLAlchemy database, by default SQLite in ``$BA_VAR_DIR/identity.db``
(``BA_IDENTITY_DATABASE_URL`` overrides it).

The same database holds what makes login links and IdP responses single-use (``login_used``),
the logins in progress (``login_pending``), the last login outcome per conversation
(``login_outcome``, no personal data) so the assistant can explain a failed login, and the
completed but not yet confirmed logins (``login_completed``).

A login completes only into the chat of the person who completed it: after the IdP answered, the
identity waits in ``login_completed`` until the chat hands back the one-time code the login
service showed to that browser (``complete_login`` / ``redeem_code``; the web chat widget receives
it from its login window by ``postMessage``, elsewhere the citizen types it). Whoever merely
opened a login link someone else sent them therefore logs in nobody but the chat they type the
code into, and the code is bound to the conversation it was issued for.

Session limits (BSI TR-03160-1, quoted in the BundID FAQ): substantiell 2 h / 30 min idle,
hoch 30 min / 5 min idle. For the Basisregistrierung no limit is prescribed; we use the
substantiell limits.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional
from urllib.parse import quote

import jwt
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from buergerassistent import signing, storage
from buergerassistent.settings import get_settings
from buergerassistent.storage import make_engine

LEVELS = ("basisregistriert", "substantiell", "hoch")
STORK_LEVELS = {
    "basisregistriert": "STORK-QAA-Level-1",
    "substantiell": "STORK-QAA-Level-3",
    "hoch": "STORK-QAA-Level-4",
}
LEVEL_LABELS = {"basisregistriert": "Basisregistrierung", "substantiell": "substantiell", "hoch": "hoch"}
# (maximum session, maximum idle time) in seconds
SESSION_LIMITS = {
    "basisregistriert": (2 * 3600, 30 * 60),
    "substantiell": (2 * 3600, 30 * 60),
    "hoch": (30 * 60, 5 * 60),
}

# Account attributes a catalogue field may name in ``prefill:`` (see DEVELOPERS.md).
PREFILL_ATTRIBUTES = ("given_name", "family_name", "birth_date", "street", "postcode", "city", "email")

TICKET_PURPOSE = "login-ticket"
LOGOUT_PURPOSE = "logout-ticket"
TICKET_TTL = 300
PORTAL_TOKEN_AUDIENCE = "buergerassistent-portal-identity"
PORTAL_TOKEN_MAX_TTL = 300


def level_rank(level: Optional[str]) -> int:
    return LEVELS.index(level) + 1 if level in LEVELS else 0


def parse_level(value: Any) -> Optional[str]:
    """``STORK-QAA-Level-3``, ``level3``, ``substantiell``, ``3`` … → ``substantiell``."""
    if value is None:
        return None
    text = str(value).strip().lower()
    if text in LEVELS:
        return text
    digit = text[-1:] if text[-1:].isdigit() else ""
    return {"1": "basisregistriert", "2": "basisregistriert", "3": "substantiell", "4": "hoch"}.get(digit)


@dataclass
class Identity:
    """A logged-in citizen. ``subject`` is the bPK2 (None for a temporary login)."""

    level: str
    source: str  # saml | oidc | portal
    subject: Optional[str] = None
    attributes: dict[str, str] = field(default_factory=dict)
    method: Optional[str] = None
    logged_in_at: float = field(default_factory=time.time)
    last_seen_at: float = field(default_factory=time.time)

    @property
    def temporary(self) -> bool:
        return not self.subject

    @property
    def display_name(self) -> str:
        parts = [self.attributes.get("given_name"), self.attributes.get("family_name")]
        return " ".join(p for p in parts if p) or "(ohne Namen)"

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS.get(self.level, self.level)

    def prefill_values(self) -> dict[str, str]:
        return {k: v for k, v in self.attributes.items() if k in PREFILL_ATTRIBUTES and v}


def greeting(ident: Identity) -> str:
    """What the chat says once a login counts (every channel, and the portal hand-over)."""
    text = f"Sie sind angemeldet als {ident.display_name} (Vertrauensniveau {ident.level_label})."
    if ident.temporary:
        text += (
            " Sie haben sich vorübergehend angemeldet, ohne dauerhaftes Nutzerkonto. "
            "Nachrichten an ein Postfach im Nutzerkonto sind dann nicht möglich."
        )
    return text


class LoginRejected(Exception):
    """A login link, IdP response or portal token was refused. ``reason`` is a stable code
    (never personal data); ``message`` is the German text shown to the citizen."""

    def __init__(self, reason: str, message: str):
        super().__init__(reason)
        self.reason = reason
        self.message = message


MESSAGES = {
    "ticket_invalid": "Dieser Anmeldelink ist ungültig. Bitte fordern Sie im Chat einen neuen an.",
    "ticket_expired": "Dieser Anmeldelink ist abgelaufen. Bitte fordern Sie im Chat einen neuen an.",
    "ticket_used": "Dieser Anmeldelink wurde schon benutzt. Bitte fordern Sie im Chat einen neuen an.",
    "ticket_other_conversation": "Dieser Anmeldelink gehört zu einem anderen Gespräch. "
    "Bitte nutzen Sie den Link aus Ihrem Chat.",
    "response_invalid": "Die Antwort des Nutzerkontos konnte nicht geprüft werden. "
    "Sie sind nicht angemeldet. Bitte versuchen Sie es im Chat noch einmal.",
    "response_replayed": "Diese Anmeldung wurde schon verarbeitet. Sie wird nicht noch einmal angenommen.",
    "response_unknown": "Zu dieser Antwort gibt es keine offene Anmeldung, oder sie ist abgelaufen. "
    "Bitte starten Sie die Anmeldung im Chat neu.",
    "cancelled": "Sie haben die Anmeldung abgebrochen. Sie können sich im Chat jederzeit neu anmelden.",
    "level_too_low": "Ihre Anmeldung hat nicht das nötige Vertrauensniveau. "
    "Im Chat können Sie sich mit dem nötigen Niveau neu anmelden.",
    "idp_error": "Das Nutzerkonto hat die Anmeldung nicht bestätigt. Bitte versuchen Sie es im Chat noch einmal.",
    "token_invalid": "Die Anmeldung aus dem Portal konnte nicht übernommen werden.",
}


# Languages of the login pages (login_service): German first (the default), English, Leichte
# Sprache (``ls``, the conversation's plain register; the page itself is German: ``lang="de"``).
PAGE_LANGUAGES = ("de", "en", "ls")
_LANG_KEY = "_lang"  # in a pending login's JSON column next to the OIDC values


def rejected(reason: str) -> LoginRejected:
    return LoginRejected(reason, MESSAGES[reason])


# --- storage ------------------------------------------------------------------------------

metadata = MetaData(info={"store": "identity"})  # its schema: migrations/versions/identity
identities = Table(
    "login_identity",
    metadata,
    Column("conversation_id", String(255), primary_key=True),
    Column("level", String(32), nullable=False),
    Column("source", String(16), nullable=False),
    Column("subject", String(255)),
    Column("method", String(64)),
    Column("attributes", Text, nullable=False),
    Column("logged_in_at", Float, nullable=False),
    Column("last_seen_at", Float, nullable=False),
)
used_tokens = Table(
    "login_used",
    metadata,
    Column("token_id", String(255), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("expires_at", Float, nullable=False),
)
pending = Table(
    "login_pending",
    metadata,
    Column("state", String(64), primary_key=True),
    Column("conversation_id", String(255), nullable=False),
    Column("level", String(32), nullable=False),
    Column("protocol", String(8), nullable=False),
    Column("request_id", String(128)),
    Column("secrets", Text),  # OIDC nonce + PKCE verifier (JSON); no personal data
    Column("expires_at", Float, nullable=False),
)
outcomes = Table(
    "login_outcome",
    metadata,
    Column("conversation_id", String(255), primary_key=True),
    Column("outcome", String(32), nullable=False),
    Column("level_required", String(32)),
    Column("level_achieved", String(32)),
    Column("at", Float, nullable=False),
)
completed = Table(
    "login_completed",
    metadata,
    Column("conversation_id", String(255), primary_key=True),
    Column("identity", Text, nullable=False),  # JSON of the Identity (personal data, 5 minutes at most)
    Column("code_hash", String(64), nullable=False),  # HMAC of conversation + code, never the code
    Column("attempts", Integer, nullable=False, default=0),
    Column("expires_at", Float, nullable=False),
)


def database_url() -> str:
    return storage.database_url("BA_IDENTITY_DATABASE_URL", "identity.db")


@lru_cache(maxsize=8)
def _engine_for(url: str):
    engine = make_engine(url)
    storage.create_tables(metadata, engine)
    return engine


def engine():
    return _engine_for(database_url())


def _purge(conn, now: float) -> None:
    conn.execute(delete(used_tokens).where(used_tokens.c.expires_at < now))
    conn.execute(delete(pending).where(pending.c.expires_at < now))
    conn.execute(delete(completed).where(completed.c.expires_at < now))


def mark_used(token_id: str, kind: str, expires_at: float) -> None:
    """Record a single-use token; raises ``LoginRejected`` when it was used before."""
    now = time.time()
    try:
        with engine().begin() as conn:
            _purge(conn, now)
            conn.execute(
                insert(used_tokens).values(
                    token_id=f"{kind}:{token_id}", kind=kind, expires_at=max(expires_at, now) + 60
                )
            )
    except IntegrityError:
        raise rejected("ticket_used" if kind == "ticket" else "response_replayed") from None


def is_used(token_id: str, kind: str) -> bool:
    with engine().connect() as conn:
        row = conn.execute(select(used_tokens.c.token_id).where(used_tokens.c.token_id == f"{kind}:{token_id}")).first()
    return row is not None


# --- identities -----------------------------------------------------------------------------


def store_identity(conversation_id: str, ident: Identity) -> None:
    row = {
        "level": ident.level,
        "source": ident.source,
        "subject": ident.subject,
        "method": ident.method,
        "attributes": json.dumps(ident.attributes, ensure_ascii=False),
        "logged_in_at": ident.logged_in_at,
        "last_seen_at": ident.last_seen_at,
    }
    with engine().begin() as conn:
        conn.execute(delete(identities).where(identities.c.conversation_id == conversation_id))
        conn.execute(insert(identities).values(conversation_id=conversation_id, **row))
        conn.execute(delete(outcomes).where(outcomes.c.conversation_id == conversation_id))


def logout(conversation_id: str) -> bool:
    """End the local session (there is no SSO to end: BundID has none between services)."""
    with engine().begin() as conn:
        result = conn.execute(delete(identities).where(identities.c.conversation_id == conversation_id))
    return result.rowcount > 0


def session_expired(ident: Identity, now: float, activity: Iterable[float] = ()) -> bool:
    max_age, max_idle = SESSION_LIMITS.get(ident.level, SESSION_LIMITS["hoch"])
    if now - ident.logged_in_at > max_age:
        return True
    # Idle = the longest pause between the citizen's messages since the last check.
    moments = sorted(t for t in activity if ident.last_seen_at < t <= now)
    previous = ident.last_seen_at
    for moment in [*moments, now]:
        if moment - previous > max_idle:
            return True
        previous = moment
    return False


def identity_status(
    conversation_id: str, now: Optional[float] = None, activity: Iterable[float] = ()
) -> tuple[Optional[Identity], str]:
    """(identity, status) with status ``active`` | ``none`` | ``expired``. An expired identity is
    deleted; an active one counts as used now (idle timer restarts)."""
    now = time.time() if now is None else now
    with engine().begin() as conn:
        row = conn.execute(select(identities).where(identities.c.conversation_id == conversation_id)).mappings().first()
        if row is None:
            return None, "none"
        ident = Identity(
            level=row["level"],
            source=row["source"],
            subject=row["subject"],
            method=row["method"],
            attributes=json.loads(row["attributes"]),
            logged_in_at=row["logged_in_at"],
            last_seen_at=row["last_seen_at"],
        )
        if session_expired(ident, now, activity):
            conn.execute(delete(identities).where(identities.c.conversation_id == conversation_id))
            return None, "expired"
        conn.execute(update(identities).where(identities.c.conversation_id == conversation_id).values(last_seen_at=now))
        ident.last_seen_at = now
        return ident, "active"


def current_identity(
    conversation_id: str, now: Optional[float] = None, activity: Iterable[float] = ()
) -> Optional[Identity]:
    """The identity of a conversation, or None (not logged in, or the session limit passed)."""
    return identity_status(conversation_id, now, activity)[0]


# --- outcomes of logins (for the assistant's explanation; no personal data) ----------------------


def record_outcome(
    conversation_id: str, outcome: str, level_required: Optional[str] = None, level_achieved: Optional[str] = None
) -> None:
    with engine().begin() as conn:
        conn.execute(delete(outcomes).where(outcomes.c.conversation_id == conversation_id))
        conn.execute(
            insert(outcomes).values(
                conversation_id=conversation_id,
                outcome=outcome,
                level_required=level_required,
                level_achieved=level_achieved,
                at=time.time(),
            )
        )


def pop_outcome(conversation_id: str) -> Optional[dict[str, Any]]:
    with engine().begin() as conn:
        row = conn.execute(select(outcomes).where(outcomes.c.conversation_id == conversation_id)).mappings().first()
        conn.execute(delete(outcomes).where(outcomes.c.conversation_id == conversation_id))
    return dict(row) if row else None


# --- pending logins (between the redirect to the IdP and its answer) ------------------------------


def start_pending(
    conversation_id: str,
    level: str,
    protocol: str,
    request_id: Optional[str] = None,
    secret_values: Optional[dict[str, str]] = None,
    ttl: int = 900,
    lang: str = "de",
) -> str:
    # The pages' language rides with the pending login (no personal data): the IdP's answer comes
    # back to a page in the conversation's language.
    secret_values = {**(secret_values or {}), **({_LANG_KEY: lang} if lang in PAGE_LANGUAGES[1:] else {})}
    state = secrets.token_urlsafe(24)
    with engine().begin() as conn:
        _purge(conn, time.time())
        conn.execute(
            insert(pending).values(
                state=state,
                conversation_id=conversation_id,
                level=level,
                protocol=protocol,
                request_id=request_id,
                secrets=json.dumps(secret_values or {}),
                expires_at=time.time() + ttl,
            )
        )
    return state


def set_pending_request_id(state: str, request_id: str) -> None:
    with engine().begin() as conn:
        conn.execute(update(pending).where(pending.c.state == state).values(request_id=request_id))


def set_pending_secrets(state: str, secret_values: dict[str, str]) -> None:
    with engine().begin() as conn:
        row = conn.execute(select(pending.c.secrets).where(pending.c.state == state)).first()
        kept = {k: v for k, v in json.loads((row[0] if row else None) or "{}").items() if k == _LANG_KEY}
        conn.execute(
            update(pending).where(pending.c.state == state).values(secrets=json.dumps({**secret_values, **kept}))
        )


def take_pending(state: str, protocol: str) -> dict[str, Any]:
    """The pending login for ``state``, removed so that it completes only once."""
    with engine().begin() as conn:
        row = conn.execute(select(pending).where(pending.c.state == state)).mappings().first()
        if row is None or row["protocol"] != protocol or row["expires_at"] < time.time():
            raise rejected("response_unknown")
        conn.execute(delete(pending).where(pending.c.state == state))
    result = dict(row)
    result["secrets"] = json.loads(result["secrets"] or "{}")
    result["lang"] = result["secrets"].pop(_LANG_KEY, PAGE_LANGUAGES[0])
    return result


def peek_pending(state: str) -> Optional[dict[str, Any]]:
    with engine().connect() as conn:
        row = conn.execute(select(pending).where(pending.c.state == state)).mappings().first()
    if not row:
        return None
    result = dict(row)
    result["lang"] = json.loads(result["secrets"] or "{}").get(_LANG_KEY, PAGE_LANGUAGES[0])
    return result


# --- completed logins waiting for the chat's confirmation ------------------------------------------

CONFIRM_TTL = 300
CONFIRM_MAX_ATTEMPTS = 5
# What a citizen types: 8 digits, shown as 4829-1736 (a space, a dash or nothing in between).
CODE_PATTERN = re.compile(r"^\s*(\d{4})[\s\-–]?(\d{4})\s*$")


@dataclass
class Redemption:
    """Result of ``redeem_code``. ``status``: ``ok`` | ``wrong`` (``attempts_left`` > 0) |
    ``exhausted`` (the completed login was dropped) | ``expired`` | ``none`` (nothing to confirm)."""

    status: str
    identity: Optional[Identity] = None
    attempts_left: int = 0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def _code_hash(conversation_id: str, code: str) -> str:
    message = f"login-code\0{conversation_id}\0{code}".encode()
    return hmac.new(signing.secret_key(), message, hashlib.sha256).hexdigest()


def normalize_code(text: Any) -> Optional[str]:
    """``4829-1736``, ``4829 1736``, ``48291736`` → ``48291736``; anything else → None."""
    if not isinstance(text, str) or len(text) > 32:
        return None
    match = CODE_PATTERN.match(text)
    return match.group(1) + match.group(2) if match else None


def format_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def _identity_json(ident: Identity) -> str:
    return json.dumps(asdict(ident), ensure_ascii=False)


def complete_login(conversation_id: str, ident: Identity, ttl: int = CONFIRM_TTL) -> str:
    """Keep a login the IdP confirmed until the chat hands back the returned code (formatted
    ``4829-1736``). The identity is NOT attached to the conversation yet. A newer completed login
    of the same conversation replaces an older one."""
    code = "".join(secrets.choice("0123456789") for _ in range(8))
    with engine().begin() as conn:
        conn.execute(delete(completed).where(completed.c.conversation_id == conversation_id))
        conn.execute(
            insert(completed).values(
                conversation_id=conversation_id,
                identity=_identity_json(ident),
                code_hash=_code_hash(conversation_id, code),
                attempts=0,
                expires_at=time.time() + ttl,
            )
        )
    return format_code(code)


def has_unconfirmed_login(conversation_id: str, now: Optional[float] = None, include_expired: bool = False) -> bool:
    now = time.time() if now is None else now
    with engine().connect() as conn:
        row = conn.execute(select(completed.c.expires_at).where(completed.c.conversation_id == conversation_id)).first()
    return row is not None and (include_expired or row[0] >= now)


def redeem_code(
    conversation_id: str, code: Any, now: Optional[float] = None, max_attempts: int = CONFIRM_MAX_ATTEMPTS
) -> Redemption:
    """Attach the completed login of ``conversation_id`` to it if ``code`` is the code issued for
    exactly this conversation: constant-time comparison, single use, expires after
    ``CONFIRM_TTL``; after ``max_attempts`` wrong codes the completed login is dropped."""
    now = time.time() if now is None else now
    digits = normalize_code(code)
    offered = _code_hash(conversation_id, digits) if digits else ""
    with engine().begin() as conn:
        row = conn.execute(select(completed).where(completed.c.conversation_id == conversation_id)).mappings().first()
        if row is None:
            return Redemption("none")
        if row["expires_at"] < now:
            conn.execute(delete(completed).where(completed.c.conversation_id == conversation_id))
            return Redemption("expired")
        if not hmac.compare_digest(offered.encode(), row["code_hash"].encode()):
            # Counted in the database (not in this process): parallel guesses from several
            # replicas share one budget.
            conn.execute(
                update(completed)
                .where(completed.c.conversation_id == conversation_id)
                .values(attempts=completed.c.attempts + 1)
            )
            # Re-read after the (row-locking) update: concurrent wrong guesses all count.
            attempts = (
                conn.execute(
                    select(completed.c.attempts).where(completed.c.conversation_id == conversation_id)
                ).scalar()
                or max_attempts
            )
            if attempts >= max_attempts:
                conn.execute(delete(completed).where(completed.c.conversation_id == conversation_id))
                return Redemption("exhausted")
            return Redemption("wrong", attempts_left=max_attempts - attempts)
        # Single use: the row goes in the same transaction that reads it.
        result = conn.execute(
            delete(completed)
            .where(completed.c.conversation_id == conversation_id)
            .where(completed.c.code_hash == row["code_hash"])
        )
        if result.rowcount != 1:
            return Redemption("none")
    ident = Identity(**json.loads(row["identity"]))
    ident.last_seen_at = now
    store_identity(conversation_id, ident)
    return Redemption("ok", identity=ident)


# --- which chat a login is for (shown on the login page and in the chat) ---------------------------------

_LABEL_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud and compared by eye
CHANNEL_NAMES = {"wc-": "Web-Chat", "rest-": "Schnittstelle", "mx-": "Matrix", "tg-": "Telegram", "th-": "Threema"}


def chat_label(conversation_id: str) -> str:
    """A short name for a conversation, e.g. ``Chat 7F3K``: the same on the login page and in the
    chat, so the citizen can see which chat a login is for. Keyed with the secret key so nobody
    can pick a conversation id to match someone else's label; it grants nothing by itself."""
    digest = hmac.new(signing.secret_key(), f"chat-label\0{conversation_id}".encode(), hashlib.sha256).digest()
    return "Chat " + "".join(_LABEL_ALPHABET[b % len(_LABEL_ALPHABET)] for b in digest[:4])


def channel_name(conversation_id: str) -> str:
    for prefix, name in CHANNEL_NAMES.items():
        if conversation_id.startswith(prefix):
            return name
    return "Chat"


# --- deleting a conversation ---------------------------------------------------------------------


def forget_conversation(conversation_id: str) -> int:
    """Delete every ``login_*`` row of a conversation: identity, pending and completed logins,
    outcome. (``login_used`` holds only ids of used tickets/responses, no conversation.) Returns
    the number of rows deleted. Called by ``buergerassistent.privacy.forget_conversation``."""
    deleted = 0
    with engine().begin() as conn:
        for table in (identities, pending, completed, outcomes):
            deleted += conn.execute(delete(table).where(table.c.conversation_id == conversation_id)).rowcount
    return deleted


# --- login tickets: the link in the chat ------------------------------------------------------


def login_public_url() -> str:
    return (get_settings().login_public_url or "http://127.0.0.1:8090").rstrip("/")


def issue_ticket(conversation_id: str, level: str, ttl: int = TICKET_TTL, lang: str = "de") -> str:
    # ``lang``: the conversation's language, for the login pages (issue 20; German when absent).
    claims = {"sub": conversation_id, "lvl": level, **({"lang": lang} if lang in PAGE_LANGUAGES[1:] else {})}
    return signing.sign(claims, TICKET_PURPOSE, ttl)


def login_url(conversation_id: str, level: str, lang: str = "de") -> str:
    """The link for the login button: signed, single-use, expiring, bound to this conversation;
    the pages behind it speak ``lang`` (``de``, ``en`` or ``ls``)."""
    ticket = issue_ticket(conversation_id, level, lang=lang)
    return f"{login_public_url()}/login/start/{quote(conversation_id, safe='')}?ticket={ticket}"


def logout_url(conversation_id: str, lang: str = "de") -> str:
    claims = {
        "sub": conversation_id,
        "lvl": "basisregistriert",
        **({"lang": lang} if lang in PAGE_LANGUAGES[1:] else {}),
    }
    ticket = signing.sign(claims, LOGOUT_PURPOSE, TICKET_TTL)
    return f"{login_public_url()}/login/logout/{quote(conversation_id, safe='')}?ticket={ticket}"


def page_language(claims_or_pending: dict[str, Any]) -> str:
    """The language of the login pages from a ticket's claims or a pending login (German default)."""
    lang = claims_or_pending.get("lang")
    return lang if lang in PAGE_LANGUAGES else PAGE_LANGUAGES[0]


def consume_ticket(token: str, conversation_id: str, purpose: str = TICKET_PURPOSE) -> dict[str, Any]:
    """Check a login ticket and use it up. Returns its claims (``sub``, ``lvl``)."""
    try:
        claims = jwt.decode(token, signing.secret_key(), algorithms=["HS256"], audience=purpose)
    except jwt.ExpiredSignatureError:
        raise rejected("ticket_expired") from None
    except jwt.PyJWTError:
        raise rejected("ticket_invalid") from None
    if claims.get("sub") != conversation_id:
        raise rejected("ticket_other_conversation")
    if claims.get("lvl") not in LEVELS or not claims.get("jti"):
        raise rejected("ticket_invalid")
    mark_used(claims["jti"], "ticket", float(claims["exp"]))
    return claims


# --- portal hand-over: a page where the citizen is already logged in ---------------------------


def _portal_keys() -> list[str]:
    """PEM public keys of the portal (``BA_PORTAL_TOKEN_PUBLIC_KEY``: a file path or the PEM)."""
    value = get_settings().ba_portal_token_public_key.strip()
    if not value:
        return []
    if not value.startswith("-----BEGIN"):
        value = Path(value).read_text()
    return [value]


PORTAL_CLAIMS = {
    "given_name": "given_name",
    "family_name": "family_name",
    "birthdate": "birth_date",
    "street_address": "street",
    "postal_code": "postcode",
    "locality": "city",
    "email": "email",
}


def accept_portal_token(conversation_id: str, token: str, now: Optional[float] = None) -> Identity:
    """Take over the portal's login for this conversation (called by the web chat channel).

    Token: a JWT signed by the portal with its private key (RS256 or ES256; the public key is in
    ``BA_PORTAL_TOKEN_PUBLIC_KEY``), with ``aud`` = ``buergerassistent-portal-identity``,
    ``cid`` = the conversation id (the widget's session), ``jti`` (single use), ``iat``/``exp``
    (at most 5 minutes apart), ``auth_time`` (when the citizen logged in to the portal, for the
    session limit), ``acr`` (``STORK-QAA-Level-1/3/4``), ``sub`` (bPK2, absent for a temporary
    login) and the OIDC claims ``given_name``, ``family_name``, ``birthdate`` (YYYY-MM-DD),
    ``street_address``, ``postal_code``, ``locality``, ``email``. Raises ``LoginRejected``.
    """
    keys = _portal_keys()
    if not keys:
        raise rejected("token_invalid")
    claims = None
    for key in keys:
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256", "ES256"],
                audience=PORTAL_TOKEN_AUDIENCE,
                options={"require": ["exp", "iat", "jti", "acr", "auth_time", "cid"]},
            )
            break
        except jwt.PyJWTError:
            continue
    if claims is None or claims.get("cid") != conversation_id:
        raise rejected("token_invalid")
    if claims["exp"] - claims["iat"] > PORTAL_TOKEN_MAX_TTL:
        raise rejected("token_invalid")
    level = parse_level(claims.get("acr"))
    if level is None:
        raise rejected("token_invalid")
    mark_used(str(claims["jti"]), "portal", float(claims["exp"]))
    now = time.time() if now is None else now
    ident = Identity(
        level=level,
        source="portal",
        subject=claims.get("sub") or None,
        attributes={ours: str(claims[theirs]) for theirs, ours in PORTAL_CLAIMS.items() if claims.get(theirs)},
        logged_in_at=float(claims["auth_time"]),
        last_seen_at=now,
    )
    if session_expired(ident, now):
        raise rejected("token_invalid")
    store_identity(conversation_id, ident)
    return ident


def as_dict(ident: Identity) -> dict[str, Any]:
    return asdict(ident)
