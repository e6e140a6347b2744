"""Every setting of the Bürgerassistent: one place, with its default and its meaning.

All processes (Rasa with our channels, the action server, the login service, the delivery
worker, the portal backend, the launcher and the content tools) read their settings here and
nowhere else. Each field is one environment variable: the field name in capitals
(``ba_var_dir`` is ``BA_VAR_DIR``). An empty value counts as unset.

    from buergerassistent.settings import get_settings
    get_settings().var_dir

The environment is read on the first call of ``get_settings()``, never at import;
``reload_settings()`` reads it again (tests, and the launcher after it changed its own
environment). ``.env.example`` at the repository root is generated from this class:

    python -m buergerassistent.settings --env-example > .env.example

(``tests/test_settings.py`` fails when it is out of date). ``--markdown`` prints the table.

``BA_ENV`` says where we run: ``development`` (the default: ``make run``, tests) or
``production``. In production ``BA_SECRET_KEY`` is required (every replica must sign and check
tokens with the same key); in development a random key is created once in
``$BA_VAR_DIR/secret.key``.

Not here, on purpose: variables that Rasa or other libraries read themselves (``TF_*``,
``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS``, ``SANIC_*``, ``RASA_CACHE_DIRECTORY``);
``rasa_runtime/process.py`` sets the thread counts before numpy loads. Test-only variables
(``DATABASE_URL`` for the PostgreSQL runs) are read by the tests themselves.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

from pydantic import BaseSettings, Field, ValidationError, validator

REPO_ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("development", "production")


class SettingsError(ValueError):
    """The settings are invalid or incomplete; the message is German, for the operator."""


def _s(default: Any, meaning: str, section: str, secret: bool = False) -> Any:
    return Field(default, description=meaning, section=section, secret=secret, repr=not secret)


GENERAL = "Operation"
SERVICES = "Services, addresses and ports"
SECRETS = "Secrets between the services"
DATABASES = "Databases"
WEBCHAT = "Web chat"
SECURITY = "Security and privacy"
LOGIN = "Login (login_service)"
SUBMISSION = "Submission and portal backend"
TOOLS = "Content and development tools"
HANDOFF = "Handoff to staff (staff_desk, issue 19)"
INSIGHTS = "Insights (insights/: event consumer, figures, dashboard)"
MATRIX = "Matrix messenger (matrix_connector)"
TELEGRAM = "Telegram channel (rasa_runtime/channels/telegram)"
THREEMA = "Threema channel (rasa_runtime/channels/threema)"


class Settings(BaseSettings):
    # --- Operation ----------------------------------------------------------------------------
    ba_env: str = _s(
        "development",
        "Where we run: development (make run, tests) or production. production requires BA_SECRET_KEY.",
        GENERAL,
    )
    ba_secret_key: Optional[str] = _s(
        None,
        "Key that signs web chat sessions, login tickets and receipt links (HS256). Required in "
        "production and the same for every process and replica; in development a random key is "
        "created once in $BA_VAR_DIR/secret.key.",
        GENERAL,
        secret=True,
    )
    ba_var_dir: Optional[Path] = _s(
        None,
        "Folder for local state: SQLite databases, secret.key, uploads, login keys, logs (default: <repository>/var).",
        GENERAL,
    )
    ba_rasa_patches: Optional[str] = _s(
        None,
        "Rasa process: our speed fixes (rasa_runtime/patches.py, GROUPS). Unset or 1 = all; 0 = plain "
        "Rasa; -state_replay,-tracker_copy = all but these groups; rule_index,diet_numpy = only these. "
        "Applied only on the Rasa version they were written for. The payload guard is not affected.",
        GENERAL,
    )
    ba_cache_dir: Optional[Path] = _s(
        None, "Model cache; trained models go to <folder>/models (default: ~/.cache/buergerassistent).", GENERAL
    )
    log_level: str = _s("INFO", "Log level of the action server (and default for LOG_LEVEL_ACTIONS).", GENERAL)
    log_level_actions: Optional[str] = _s(None, "Log level of the action server only (default: LOG_LEVEL).", GENERAL)
    ba_log_format: str = _s(
        "text",
        "Log lines of every process: text, or json (one object per line with the request id that "
        "follows a message from the channel to the action server and the portal backend; docs/operations.md).",
        GENERAL,
    )
    ba_metrics_token: Optional[str] = _s(
        None,
        "Bearer token Prometheus sends to /metrics of the Rasa process (/webhooks/metrics/) and "
        "every service (docs/operations.md). Unset: no /metrics anywhere.",
        SECRETS,
        secret=True,
    )

    # --- Services -----------------------------------------------------------------------------
    ba_host: str = _s(
        "127.0.0.1",
        "Address every service of `make run` (and actions.server, bot.serve, "
        "the login service) listens on: only this machine unless set.",
        SERVICES,
    )
    rasa_port: int = _s(5005, "Port of Rasa (bot/stack.py, bot.serve).", SERVICES)
    action_port: int = _s(5055, "Port of the action server.", SERVICES)
    portal_port: Optional[str] = _s(None, "Port of the portal backend (default 8080; the flag --port wins).", SERVICES)
    portal_host: str = _s("127.0.0.1", "Interface the portal backend listens on (python -m portal_backend).", SERVICES)
    demo_port: int = _s(8000, "Port of the demo page of `make run`.", SERVICES)
    login_port: Optional[int] = _s(None, "Port of the login service (default 8090; `make run`: a free port).", SERVICES)
    submission_worker_port: Optional[int] = _s(
        None, "Health port of the delivery worker (default 5056; `make run`: a free port).", SERVICES
    )
    rasa_url: Optional[str] = _s(
        None,
        "Where our services reach Rasa's HTTP API (login result, receipts, reload). Default for "
        "the login service http://127.0.0.1:5005; `make run` sets it for every service.",
        SERVICES,
    )
    action_server_url: Optional[str] = _s(
        None,
        "Action server webhook, where it does not run beside Rasa (docker-compose); default "
        "http://$BA_HOST:$ACTION_PORT/webhook.",
        SERVICES,
    )
    portal_backend_url: Optional[str] = _s(
        None,
        "Where the action server and the delivery worker reach the portal backend's API "
        "(default http://localhost:8080).",
        SERVICES,
    )
    portal_public_url: Optional[str] = _s(
        None,
        "Base of receipt links the citizen's browser opens (<base>/receipts/<token>; in "
        "docker-compose the receipts proxy). Default: PORTAL_BACKEND_URL.",
        SERVICES,
    )
    login_public_url: Optional[str] = _s(
        None,
        "How browsers reach the login service (login links, SAML ACS, OIDC redirect). Default "
        "http://$BA_HOST:$LOGIN_PORT (http://127.0.0.1:8090).",
        SERVICES,
    )

    # --- Secrets ---------------------------------------------------------------------------
    rasa_api_token: Optional[str] = _s(
        None,
        "Token of Rasa's HTTP API; our services call it. Random per `make run`; required by "
        "bot.serve. Reaches Rasa through the environment (rasa_runtime/process.py), never on a "
        "command line.",
        SECRETS,
        secret=True,
    )
    action_server_token: Optional[str] = _s(
        None,
        "Shared secret Rasa -> action server (Authorization: Bearer, filled into the endpoints "
        "by Rasa). Random per `make run`; required by bot.serve and actions.server.",
        SECRETS,
        secret=True,
    )
    rest_channel_token: Optional[str] = _s(
        None,
        "Switches the REST channel (rasa_runtime/channels/rest, development and tests) on; every "
        "request needs it as Bearer token. Unset: no REST channel.",
        SECRETS,
        secret=True,
    )
    portal_api_token: Optional[str] = _s(
        None,
        "The assistant's service token for the portal backend (action server and delivery worker "
        "send it, the backend checks it). Random per `make run`; required otherwise.",
        SECRETS,
        secret=True,
    )
    portal_authority_token: Optional[str] = _s(
        None,
        "The authority's token for status changes (portal backend only). Random per `make run`; required otherwise.",
        SECRETS,
        secret=True,
    )
    portal_citizen_key: Optional[str] = _s(
        None,
        "HMAC key of citizen assertions (buergerassistent/citizen_assertion.py): action server "
        "and delivery worker sign, the portal backend verifies. Random per `make run`; required "
        "otherwise; differs from the tokens.",
        SECRETS,
        secret=True,
    )

    # --- Databases --------------------------------------------------------------------------
    tracker_store_url: Optional[str] = _s(
        None,
        "Rasa's tracker store, e.g. postgresql://user:pw@host/db (default sqlite:///$BA_VAR_DIR/tracker.db).",
        DATABASES,
    )
    lock_store_url: Optional[str] = _s(
        None, "Rasa's lock store, e.g. redis://localhost:6379/1 (default: in memory).", DATABASES
    )
    portal_database_url: Optional[str] = _s(
        None,
        "Database of the portal backend (default sqlite:///var/portal.db, relative to the "
        "working directory; `make run`: $BA_VAR_DIR/portal.db).",
        DATABASES,
    )
    outbox_database_url: Optional[str] = _s(
        None, "Submission outbox, action server + delivery worker (default sqlite:///$BA_VAR_DIR/outbox.db).", DATABASES
    )
    ba_identity_database_url: Optional[str] = _s(
        None, "Login identities, login service + action server (default sqlite:///$BA_VAR_DIR/identity.db).", DATABASES
    )
    ba_drafts_database_url: Optional[str] = _s(
        None, "Saved form drafts (default sqlite:///$BA_VAR_DIR/drafts.db).", DATABASES
    )
    ba_privacy_database_url: Optional[str] = _s(
        None,
        "Revoked web chat sessions of deleted conversations, hash only (default sqlite:///$BA_VAR_DIR/privacy.db).",
        DATABASES,
    )
    ba_db_connect_timeout: float = _s(
        60, "Seconds the tracker store waits for its database at start-up, then stops with an error.", DATABASES
    )
    ba_tracker_cache_size: int = _s(
        500, "Trackers kept in memory per Rasa process (rasa_runtime/tracker_store.py).", DATABASES
    )

    # --- Web chat -----------------------------------------------------------------------------
    webchat_allowed_origins: str = _s(
        "",
        "Origins that may open a chat socket, comma-separated (the portal's origin in production; "
        "also give it to Rasa's --cors for uploads). The login service hands login codes only to "
        "these pages (*: to none). Default: pages on 127.0.0.1/localhost only.",
        WEBCHAT,
    )
    webchat_redis_url: Optional[str] = _s(
        None,
        "redis://... shares socket.io rooms, revocations and rate limits between Rasa replicas (default: in process).",
        WEBCHAT,
    )
    webchat_redis_channel: str = _s("buergerassistent-webchat", "Redis channel of the socket.io manager.", WEBCHAT)
    webchat_session_ttl: int = _s(24 * 3600, "Seconds a browser may return to its conversation.", WEBCHAT)
    webchat_max_message_chars: int = _s(2000, "Longest message accepted.", WEBCHAT)
    webchat_rate_limit: str = _s("30/60", "Messages per seconds and conversation (<count>/<seconds>).", WEBCHAT)
    webchat_upload_dir: Optional[Path] = _s(
        None, "Where uploads (PDF, JPG, PNG) are kept; never served over HTTP (default $BA_VAR_DIR/uploads).", WEBCHAT
    )
    webchat_max_upload_bytes: int = _s(10 * 1024 * 1024, "Largest upload in bytes.", WEBCHAT)
    webchat_max_uploads: int = _s(10, "Uploads per conversation (reserved atomically).", WEBCHAT)
    webchat_client_upload_limit: str = _s(
        "30/3600",
        "Uploads per client address and seconds (<count>/<seconds>; the address from a proxy "
        "header only when Sanic trusts the proxy: SANIC_PROXIES_COUNT / SANIC_REAL_IP_HEADER).",
        WEBCHAT,
    )

    # --- Security ---------------------------------------------------------------------------
    ba_login_required: str = _s(
        "1",
        "Procedures with online.trust_level ask for the login; 0/false/no/off turns it off. Only "
        "`make run`'s local demo does that, when unset.",
        SECURITY,
    )
    ba_link_allowed_hosts: str = _s(
        "",
        "Extra hosts bot messages may link to, comma-separated (*.example.de for subdomains); always "
        "allowed: the hosts of PORTAL_PUBLIC_URL, LOGIN_PUBLIC_URL and the catalogue's links.",
        SECURITY,
    )
    ba_frame_ancestors: str = _s(
        "'self'",
        "CSP frame-ancestors of every page we serve (buergerassistent/http_security.py); X-Frame-Options follows it.",
        SECURITY,
    )
    ba_portal_token_public_key: str = _s(
        "",
        "Public key(s) of the portal's hand-over tokens (ES256/RS256): a PEM file path or the PEM "
        "itself. Unset: no hand-over.",
        SECURITY,
    )

    # --- Login -------------------------------------------------------------------------------
    login_protocol: str = _s(
        "", "saml or oidc (default: saml if SAML_IDP_METADATA is set, else oidc if OIDC_ISSUER is set).", LOGIN
    )
    saml_idp_metadata: Optional[Path] = _s(None, "IdP metadata file (BundID/BayernID).", LOGIN)
    saml_sp_entity_id: str = _s("", "Our SAML entity id (default $LOGIN_PUBLIC_URL/login/saml/metadata).", LOGIN)
    saml_sp_key: Optional[Path] = _s(None, "SAML signing key, PEM (default: generated in $BA_VAR_DIR/login/).", LOGIN)
    saml_sp_cert: Optional[Path] = _s(None, "SAML signing certificate, PEM (default: generated with the key).", LOGIN)
    saml_sp_enc_key: Optional[Path] = _s(None, "SAML encryption key, PEM (default: the signing key).", LOGIN)
    saml_sp_enc_cert: Optional[Path] = _s(None, "SAML encryption certificate (default: the signing one).", LOGIN)
    login_organization_name: str = _s("Bürgerassistent", "OrganizationDisplayName shown by the IdP.", LOGIN)
    login_online_service_id: str = _s("", "OnlineServiceId (mandatory for BundID since 2025-06-30).", LOGIN)
    login_lang: str = _s("de", "Lang in the AKDB extension.", LOGIN)
    oidc_issuer: str = _s("", "OIDC broker (e.g. Keycloak with the BayernID plugin).", LOGIN)
    oidc_client_id: str = _s("", "OIDC client id.", LOGIN)
    oidc_client_secret: str = _s("", "OIDC client secret.", LOGIN, secret=True)
    oidc_level_scopes: str = _s(
        "level1,level3,level4", "Scopes that request basisregistriert, substantiell, hoch (comma-separated).", LOGIN
    )

    # --- Submission --------------------------------------------------------------------------
    submission_backend: str = _s(
        "reference", "Submission adapter: reference, fit-connect (all procedures), or module:Class.", SUBMISSION
    )
    fitconnect_procedures: str = _s(
        "",
        "Procedures sent over FIT-Connect while SUBMISSION_BACKEND=reference (comma-separated ids); "
        "Verfahren, die über FIT-Connect gehen.",
        SUBMISSION,
    )
    fitconnect_leika_keys: str = _s(
        "",
        "LeiKa keys for procedures whose catalogue entry has none, as id=key (comma-separated), "
        "e.g. blaue_karte_eu=<key the destination is registered under>; Leistungsschlüssel je Verfahren.",
        SUBMISSION,
    )
    fitconnect_token_url: str = _s(
        "", "OAuth token endpoint of FIT-Connect (e.g. https://auth-testing.fit-connect.fitko.dev/token).", SUBMISSION
    )
    fitconnect_submission_url: str = _s(
        "", "Submission API base URL (e.g. https://submission-api-testing.fit-connect.fitko.dev).", SUBMISSION
    )
    fitconnect_routing_url: str = _s(
        "", "Routing API base URL (e.g. https://routing-api-testing.fit-connect.fitko.dev).", SUBMISSION
    )
    fitconnect_signature_jwks_url: str = _s(
        "",
        "JWKS of the self-service portal that signs destinationSignature "
        "(Schlüssel, mit denen das Self-Service-Portal Routen signiert).",
        SUBMISSION,
    )
    fitconnect_client_id: str = _s("", "OAuth client id of our registered sender (Sender-Client-ID).", SUBMISSION)
    fitconnect_client_secret: str = _s("", "OAuth client secret of our registered sender.", SUBMISSION, secret=True)
    fitconnect_timeout_s: float = _s(10, "Timeout of one request to FIT-Connect.", SUBMISSION)
    fitconnect_ars_table: Optional[Path] = _s(
        None,
        "Imported municipality register (postcode → ARS; default $BA_VAR_DIR/regional_keys.csv).",
        SUBMISSION,
    )
    fitconnect_callback_secret: str = _s(
        "", "HMAC secret of FIT-Connect status callbacks (Callback-Geheimnis).", SUBMISSION, secret=True
    )
    submission_inline_budget_s: float = _s(
        6, "How long \"Ja, absenden\" waits for the backend before \"saved, will follow\".", SUBMISSION
    )
    submission_lease_s: float = _s(30, "Seconds a process holds an outbox entry it is delivering.", SUBMISSION)
    submission_retry_base_s: float = _s(1, "First retry delay of a failed delivery (doubles each attempt).", SUBMISSION)
    submission_retry_max_s: float = _s(30, "Longest retry delay of a failed delivery.", SUBMISSION)
    submission_worker_concurrency: int = _s(8, "Deliveries the delivery worker runs at once.", SUBMISSION)
    submission_worker_poll_s: float = _s(0.5, "How often the delivery worker looks into the outbox.", SUBMISSION)
    submission_notify_window_s: float = _s(
        3600, "Within this many seconds the delivery worker tells the chat about a late delivery.", SUBMISSION
    )
    portal_timeout_s: float = _s(5, "Timeout of one request to the portal backend.", SUBMISSION)
    portal_attempts: int = _s(3, "Attempts per request to the portal backend.", SUBMISSION)
    receipt_link_ttl_s: int = _s(7 * 24 * 3600, "Lifetime of a receipt link in seconds.", SUBMISSION)
    receipt_font_dir: Path = _s(Path("/usr/share/fonts/truetype/dejavu"), "DejaVu fonts for receipt PDFs.", SUBMISSION)
    portal_fault_503_rate: float = _s(
        0, "Test setting of the reference backend: share of API requests answered 503.", SUBMISSION
    )
    ba_draft_max_age_days: float = _s(30, "Days a saved form draft is kept.", SUBMISSION)
    status_poll_interval_s: float = _s(
        60,
        "How often the delivery worker asks the backend for status changes of applications whose "
        "citizen agreed to status messages (0: never).",
        SUBMISSION,
    )

    # --- Telegram ----------------------------------------------------------------------------
    telegram_bot_token: Optional[str] = _s(
        None,
        "Token of the Telegram bot (from @BotFather). Set together with TELEGRAM_WEBHOOK_SECRET: "
        "switches the Telegram channel on (webhook /webhooks/telegram/webhook). Unset: no Telegram.",
        TELEGRAM,
        secret=True,
    )
    telegram_webhook_secret: Optional[str] = _s(
        None,
        "Secret Telegram sends in X-Telegram-Bot-Api-Secret-Token with every update (setWebhook "
        "secret_token; 1-256 characters A-Z a-z 0-9 _ -).",
        TELEGRAM,
        secret=True,
    )
    telegram_api_url: str = _s(
        "https://api.telegram.org", "Base address of the Telegram Bot API (tests: a local double).", TELEGRAM
    )

    # --- Threema -----------------------------------------------------------------------------
    threema_gateway_id: Optional[str] = _s(
        None,
        "Threema Gateway ID of the assistant (end-to-end mode, e.g. *BUERGER). Set together with "
        "THREEMA_API_SECRET and THREEMA_PRIVATE_KEY: switches the Threema channel on (callback "
        "/webhooks/threema/callback). Unset: no Threema.",
        THREEMA,
    )
    threema_api_secret: Optional[str] = _s(
        None, "API secret of the Gateway ID (sending, and the MAC of incoming callbacks).", THREEMA, secret=True
    )
    threema_private_key: Optional[str] = _s(
        None, "Private key of the Gateway ID (private:<64 hex>, from threema-gateway generate).", THREEMA, secret=True
    )
    threema_api_url: str = _s(
        "https://msgapi.threema.ch", "Base address of the Threema Gateway API (tests: a local double).", THREEMA
    )

    # --- Handoff to staff (issue 19) ---------------------------------------------------------
    staff_desk_url: Optional[str] = _s(
        None,
        "Address of the staff desk (python -m staff_desk) for the action server. Unset: no handoff; "
        "the assistant names the 115, the office and offers a call-back.",
        HANDOFF,
    )
    staff_desk_token: Optional[str] = _s(
        None, "Shared secret: the action server calls the staff desk with it (Bearer).", HANDOFF, secret=True
    )
    staff_desk_port: Optional[int] = _s(None, "Port of the staff desk (default: a free port).", HANDOFF)
    staff_matrix_homeserver: Optional[str] = _s(
        None, "Matrix homeserver of the staff (e.g. https://matrix.stadt.example). Unset: no staff desk.", HANDOFF
    )
    staff_matrix_user: Optional[str] = _s(None, "Matrix user id of the staff desk bot (@buergerassistent:…).", HANDOFF)
    staff_matrix_access_token: Optional[str] = _s(
        None, "Access token of the staff desk bot account.", HANDOFF, secret=True
    )
    staff_matrix_queue_room: Optional[str] = _s(
        None, "Room id of the staff queue room: new cases appear there without personal data.", HANDOFF
    )
    staff_matrix_agents: str = _s(
        "", "Matrix user ids allowed to take cases, comma-separated. Nobody else can take one.", HANDOFF
    )
    handoff_office_hours: str = _s(
        "Mo-Do 08:00-16:00; Fr 08:00-12:00",
        "When staff answer chats (Europe/Berlin): '<days> HH:MM-HH:MM' separated by ';'. Public holidays are closed.",
        HANDOFF,
    )
    handoff_holiday_region: str = _s(
        "BY", "Region of the public holidays (holidays library, Germany): BY = Bavaria; keine = none.", HANDOFF
    )
    handoff_queue_timeout_s: float = _s(
        300, "Seconds a citizen waits for staff before the assistant offers 115 and a call-back.", HANDOFF
    )
    handoff_database_url: Optional[str] = _s(
        None, "Handoff cases, audit log and call-back requests (default SQLite $BA_VAR_DIR/handoff.db).", HANDOFF
    )

    # --- Matrix ------------------------------------------------------------------------------
    matrix_homeserver_url: Optional[str] = _s(
        None,
        "Matrix homeserver of the assistant's bot account (e.g. https://matrix.example.de). With "
        "MATRIX_USER_ID and MATRIX_PASSWORD or MATRIX_ACCESS_TOKEN it switches the Matrix channel on; "
        "unset: no Matrix. / Matrix-Homeserver des Bot-Kontos; ohne: kein Matrix.",
        MATRIX,
    )
    matrix_user_id: Optional[str] = _s(None, "Full Matrix id of the bot account (@assistent:example.de).", MATRIX)
    matrix_password: Optional[str] = _s(
        None, "Password of the bot account (used once to log in a device; or MATRIX_ACCESS_TOKEN).", MATRIX, secret=True
    )
    matrix_access_token: Optional[str] = _s(
        None, "Access token of the bot account (instead of MATRIX_PASSWORD).", MATRIX, secret=True
    )
    matrix_channel_token: Optional[str] = _s(
        None,
        "Token between the Matrix connector and Rasa's Matrix channel (both directions). Unset with "
        "the Matrix settings present: `make run` generates one per start.",
        MATRIX,
        secret=True,
    )
    matrix_connector_url: Optional[str] = _s(
        None, "Internal URL of the Matrix connector, for proactive messages from Rasa.", MATRIX
    )
    matrix_connector_port: Optional[int] = _s(None, "Port of the Matrix connector (default: a free port).", MATRIX)
    matrix_store_dir: Optional[Path] = _s(
        None, "Device keys, Olm/Megolm sessions and room state of the bot (default $BA_VAR_DIR/matrix).", MATRIX
    )
    matrix_store_database_url: Optional[str] = _s(
        None,
        "PostgreSQL for the bot's device keys, Olm/Megolm sessions and room state "
        "(postgresql://user:pass@host/db; a pool instead of SQLite's one connection, faster under "
        "load). Unset: SQLite in MATRIX_STORE_DIR.",
        MATRIX,
        secret=True,
    )
    matrix_pickle_key: Optional[str] = _s(
        None,
        "Key that encrypts the stored Olm account and sessions (default: derived from BA_SECRET_KEY).",
        MATRIX,
        secret=True,
    )

    # --- Tools -------------------------------------------------------------------------------
    ba_review_dir: Optional[Path] = _s(
        None, "Review inbox decisions of content.review (default $BA_VAR_DIR/review).", TOOLS
    )
    ba_cv_folds: int = _s(3, "Cross-validation folds of `make evaluate`.", TOOLS)
    ba_shared_data: Optional[Path] = _s(
        None, "Shared data folder of catalogue/import_munich.py (default <repository>/../shared/data).", TOOLS
    )

    # --- Insights ----------------------------------------------------------------------------
    insights_broker_url: Optional[str] = _s(
        None,
        "RabbitMQ for Rasa's event broker, amqp://user:pw@host:5672/vhost. Unset: Rasa publishes no "
        "events and there are no insights (make run works as before). / RabbitMQ für Rasas Event-Broker.",
        INSIGHTS,
        secret=True,
    )
    insights_exchange: str = _s(
        "buergerassistent-events", "Exchange Rasa publishes to (fanout). / Exchange, an den Rasa sendet.", INSIGHTS
    )
    insights_queue: str = _s(
        "buergerassistent-insights",
        "Durable queue the insights service reads (bound to the exchange). / Warteschlange des Insights-Dienstes.",
        INSIGHTS,
    )
    insights_database_url: Optional[str] = _s(
        None,
        "Masked facts and daily figures (default sqlite:///$BA_VAR_DIR/insights.db; PostgreSQL by URL). "
        "/ Datenbank der Auswertung.",
        INSIGHTS,
    )
    insights_retention_days: int = _s(
        90,
        "Days masked facts are kept; older ones are folded into daily figures (kept). / Aufbewahrung der Rohdaten in Tagen.",
        INSIGHTS,
    )
    insights_dashboard_port: int = _s(5070, "Port of the staff dashboard (python -m content.dashboard).", INSIGHTS)
    insights_consumer_port: int = _s(
        5071, "Port of the event consumer's /health and /metrics (python -m insights consume).", INSIGHTS
    )
    insights_dashboard_url: Optional[str] = _s(
        None,
        "Public base URL of the dashboard, for the OIDC redirect (default http://$BA_HOST:<port>). "
        "/ Öffentliche Adresse des Dashboards.",
        INSIGHTS,
    )
    insights_oidc_issuer: str = _s("", "Staff identity provider (OIDC issuer) of the dashboard login.", INSIGHTS)
    insights_oidc_client_id: str = _s("", "OIDC client id of the dashboard.", INSIGHTS)
    insights_oidc_client_secret: str = _s("", "OIDC client secret of the dashboard.", INSIGHTS, secret=True)
    insights_staff: str = _s(
        "",
        "Staff accounts (OIDC sub, comma-separated) who may open the dashboard; empty: nobody. "
        "/ Konten (sub), die das Dashboard sehen dürfen.",
        INSIGHTS,
    )

    class Config:
        case_sensitive = False
        # Our own variables only: nothing is read from a .env file.
        env_file = None

    @validator("*", pre=True)
    def _empty_is_unset(cls, value: Any, field: Any) -> Any:  # noqa: N805
        if isinstance(value, str) and not value.strip():
            return field.get_default()
        return value

    @validator("ba_env")
    def _known_env(cls, value: str) -> str:  # noqa: N805
        value = value.strip().lower()
        if value not in ENVIRONMENTS:
            raise ValueError(f"must be one of {', '.join(ENVIRONMENTS)}")
        return value

    @validator("ba_log_format")
    def _known_log_format(cls, value: str) -> str:  # noqa: N805
        value = value.strip().lower()
        if value not in ("text", "json"):
            raise ValueError("must be text or json")
        return value

    # --- derived values ---------------------------------------------------------------------

    @property
    def production(self) -> bool:
        return self.ba_env == "production"

    @property
    def var_dir(self) -> Path:
        """``BA_VAR_DIR``: the one place where the var folder is resolved."""
        return self.ba_var_dir or REPO_ROOT / "var"

    @property
    def cache_dir(self) -> Path:
        return self.ba_cache_dir or Path.home() / ".cache" / "buergerassistent"

    @property
    def login_required(self) -> bool:
        """On unless switched off explicitly: a deployment that forgets the setting is safe."""
        return self.ba_login_required.strip().lower() not in ("0", "false", "no", "off")

    @property
    def upload_dir(self) -> Path:
        return self.webchat_upload_dir or self.var_dir / "uploads"

    def check(self) -> None:
        """What must hold before any service starts (German: the operator reads it)."""
        if self.production and not (self.ba_secret_key or "").strip():
            raise SettingsError(
                "BA_SECRET_KEY fehlt: Mit BA_ENV=production ist ein gemeinsamer geheimer Schlüssel "
                "Pflicht (für alle Dienste und Repliken derselbe, z. B. `openssl rand -hex 32`). "
                "Ohne ihn würde jeder Prozess seinen eigenen Schlüssel erzeugen."
            )


def _german(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        name = str(error["loc"][0]).upper() if error.get("loc") else "?"
        parts.append(f"{name}: {error['msg']}")
    return "Ungültige Einstellung " + "; ".join(parts)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings, read from the environment on the first call (raises ``SettingsError``)."""
    try:
        settings = Settings()
    except ValidationError as exc:
        raise SettingsError(_german(exc)) from None
    settings.check()
    return settings


def reload_settings() -> Settings:
    """Forget the cached settings and read the environment again."""
    get_settings.cache_clear()
    return get_settings()


def startup_settings() -> Settings:
    """For a service's ``main()``: the settings, or a German message and exit code 2."""
    try:
        return get_settings()
    except SettingsError as exc:
        print(f"Start abgebrochen: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


# --- generated documentation ------------------------------------------------------------------


def variables() -> list[tuple[str, Any, str, str, bool]]:
    """(environment variable, default, meaning, section, secret) for every setting, in order."""
    rows = []
    for name, field in Settings.__fields__.items():
        extra = field.field_info.extra
        rows.append(
            (
                name.upper(),
                field.default,
                field.field_info.description or "",
                extra["section"],
                extra.get("secret", False),
            )
        )
    return rows


def _default_text(default: Any) -> str:
    return "" if default is None else str(default)


def env_example() -> str:
    """The text of ``.env.example``: every variable, commented out, with its default."""
    lines = [
        "# Settings of the Bürgerassistent: every environment variable, with its default.",
        "# Generated from buergerassistent/settings.py; do not edit, regenerate with",
        "#   .venv/bin/python -m buergerassistent.settings --env-example > .env.example",
        "# An empty value counts as unset. Nothing reads this file by itself: copy what you need",
        "# into your environment (or docker-compose's .env) and uncomment it.",
    ]
    section = None
    for env, default, meaning, group, secret in variables():
        if group != section:
            section = group
            lines += ["", f"# === {group} ==="]
        lines.append("")
        lines += [f"# {line}" for line in _wrap(meaning)]
        value = "" if secret else _default_text(default)
        lines.append(f"#{env}={value}")
    return "\n".join(lines) + "\n"


def markdown_table() -> str:
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for env, default, meaning, _, _ in variables():
        shown = f"`{default}`" if default not in (None, "") else "–"
        lines.append(f"| `{env}` | {shown} | {meaning.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def _wrap(text: str, width: int = 96) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width=width) or [""]


def main(argv: Optional[list[str]] = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m buergerassistent.settings", description="Print the settings' documentation."
    )
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--env-example", action="store_true", help="the text of .env.example")
    group.add_argument("--markdown", action="store_true", help="a Markdown table of every variable")
    args = parser.parse_args(argv)
    sys.stdout.write(env_example() if args.env_example else markdown_table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
