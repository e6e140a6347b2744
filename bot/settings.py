"""The launcher's view of the settings (``buergerassistent.settings``): ports, URLs, stores and
secrets of the stack ``make run`` starts, plus the endpoints and credentials it renders for Rasa."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import yaml
from sqlalchemy.engine import make_url

from buergerassistent.settings import REPO_ROOT, get_settings


@dataclass
class Settings:
    rasa_port: int = field(default_factory=lambda: get_settings().rasa_port)
    action_port: int = field(default_factory=lambda: get_settings().action_port)
    portal_port: int = field(default_factory=lambda: int(get_settings().portal_port or 8080))
    demo_port: int = field(default_factory=lambda: get_settings().demo_port)
    host: str = field(default_factory=lambda: get_settings().ba_host)
    tracker_store_url: str = field(
        default_factory=lambda: get_settings().tracker_store_url or f"sqlite:///{get_settings().var_dir / 'tracker.db'}"
    )
    lock_store_url: Optional[str] = field(default_factory=lambda: get_settings().lock_store_url or None)
    portal_database_url: str = field(
        default_factory=lambda: (
            get_settings().portal_database_url or f"sqlite:///{get_settings().var_dir / 'portal.db'}"
        )
    )
    var_dir: Path = field(default_factory=lambda: get_settings().var_dir)
    # Token for Rasa's HTTP API (used by our own processes only, e.g. to inject a login result
    # or a delivered receipt into a conversation). Random per start unless set.
    rasa_api_token: str = field(default_factory=lambda: get_settings().rasa_api_token or secrets.token_urlsafe(32))
    # Shared secret Rasa sends to the action server (actions/server.py checks it). Random per
    # start unless set; must be the same for Rasa and the action server.
    action_server_token: str = field(
        default_factory=lambda: get_settings().action_server_token or secrets.token_urlsafe(32)
    )
    # The REST channel (rasa_runtime/channels/rest) exists only when this is set: for development and tests.
    rest_channel_token: Optional[str] = field(default_factory=lambda: get_settings().rest_channel_token or None)
    # Prometheus' token for /metrics of every process (buergerassistent/metrics.py); unset: no /metrics.
    metrics_token: Optional[str] = field(default_factory=lambda: get_settings().ba_metrics_token or None)
    # Set where the action server does not run beside Rasa (e.g. docker-compose).
    action_server_url: Optional[str] = field(default_factory=lambda: get_settings().action_server_url or None)
    # Matrix (matrix_connector): the connector runs only when homeserver, user and a credential are set.
    matrix_homeserver_url: Optional[str] = field(default_factory=lambda: get_settings().matrix_homeserver_url)
    matrix_user_id: Optional[str] = field(default_factory=lambda: get_settings().matrix_user_id)
    matrix_password: Optional[str] = field(default_factory=lambda: get_settings().matrix_password, repr=False)
    matrix_access_token: Optional[str] = field(default_factory=lambda: get_settings().matrix_access_token, repr=False)
    matrix_channel_token: Optional[str] = field(default_factory=lambda: get_settings().matrix_channel_token, repr=False)

    def __post_init__(self) -> None:
        if self.matrix_enabled and not self.matrix_channel_token:
            self.matrix_channel_token = secrets.token_urlsafe(32)
        if not self.matrix_enabled:
            self.matrix_channel_token = None

    @property
    def matrix_enabled(self) -> bool:
        return bool(
            self.matrix_homeserver_url and self.matrix_user_id and (self.matrix_password or self.matrix_access_token)
        )

    @property
    def portal_url(self) -> str:
        return f"http://{self.host}:{self.portal_port}"

    @property
    def action_url(self) -> str:
        return self.action_server_url or f"http://{self.host}:{self.action_port}/webhook"

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def demo_url(self) -> str:
        return f"http://{self.host}:{self.demo_port}"


# Rasa's SQL store with reconnects and a per-conversation cache (rasa_runtime/tracker_store.py).
TRACKER_STORE_TYPE = "rasa_runtime.tracker_store.CachingSQLTrackerStore"


def tracker_store_config(url: str) -> dict:
    """The SQL tracker store takes the URL's parts as separate keys (as Rasa's own does)."""
    parsed = make_url(url)
    dialect = parsed.drivername.split("+")[0]
    if dialect == "sqlite":
        return {"type": TRACKER_STORE_TYPE, "dialect": "sqlite", "db": parsed.database}
    config = {
        "type": TRACKER_STORE_TYPE,
        "dialect": parsed.drivername,
        "url": parsed.host,
        "port": parsed.port,
        "db": parsed.database,
        "username": parsed.username,
        "password": parsed.password,
    }
    return {k: v for k, v in config.items() if v is not None}


LOCK_STORE_TYPE = "rasa_runtime.lock_store.RedisLockStore"


def lock_store_config(url: Optional[str]) -> dict:
    if not url:
        return {"type": "in_memory"}
    parsed = make_url(url)
    config = {
        # Rasa's Redis lock store, telling the citizen when Redis is down (rasa_runtime/lock_store.py).
        "type": LOCK_STORE_TYPE,
        "url": parsed.host,
        "port": parsed.port or 6379,
        "db": int(parsed.database or 0),
        "password": parsed.password,
        "key_prefix": "buergerassistent",
    }
    return {k: v for k, v in config.items() if v is not None}


def endpoints(settings: Settings) -> dict:
    return {
        "action_endpoint": {
            "url": settings.action_url,
            # The action server answers only Rasa. Rasa fills in the secret from its environment
            # when it reads the file (endpoints.yml supports ${VAR}), so it is in no file.
            "headers": {"Authorization": "Bearer ${ACTION_SERVER_TOKEN}"},
            # Our actions never read the domain (forms come from the catalogue); without this
            # Rasa sends the whole domain, serialised anew, with every action call.
            "enable_selective_domain": True,
        },
        "tracker_store": tracker_store_config(settings.tracker_store_url),
        "lock_store": lock_store_config(settings.lock_store_url),
        **event_broker_config(get_settings().insights_broker_url),
    }


def event_broker_config(url: Optional[str]) -> dict:
    """Rasa's Pika event broker to RabbitMQ (insights, docs/insights.md), only when a broker is
    set: without one Rasa publishes nothing and `make run` is as before."""
    if not url:
        return {}
    parsed = make_url(url)
    vhost = f"/{parsed.database}" if parsed.database else ""
    broker = {
        "type": "pika",
        "url": f"amqp://{parsed.host or '127.0.0.1'}{vhost}",
        "port": parsed.port or 5672,
        "username": parsed.username or "guest",
        "password": parsed.password or "guest",
        "exchange_name": get_settings().insights_exchange,
        "queues": [get_settings().insights_queue],
        "raise_on_failure": False,
        "connection_attempts": 3,
        "retry_delay_in_seconds": 2,
    }
    return {"event_broker": broker}


# Input channels Rasa is started with: bot/credentials.yml, plus the REST channel only when it
# has a token. Rasa's own `rest:` channel has no authentication and must never be listed.
CREDENTIALS = REPO_ROOT / "bot" / "credentials.yml"
REST_CHANNEL = "rasa_runtime.channels.rest.channel.RestChannel"
METRICS_CHANNEL = "rasa_runtime.metrics.MetricsChannel"
MATRIX_CHANNEL = "rasa_runtime.channels.matrix.channel.MatrixChannel"
# Messenger channels: (class, the settings that must all be present). Each starts only with its
# settings (docs/messengers.md); the channel reads them from Rasa's environment.
MESSENGER_CHANNELS = {
    "rasa_runtime.channels.telegram.channel.TelegramChannel": ("telegram_bot_token", "telegram_webhook_secret"),
    "rasa_runtime.channels.threema.channel.ThreemaChannel": (
        "threema_gateway_id",
        "threema_api_secret",
        "threema_private_key",
    ),
}


def credentials(settings: Settings, path: Path = CREDENTIALS, extra_env: Optional[dict[str, str]] = None) -> dict:
    """The channels Rasa starts with; ``extra_env``: environment a stack adds for its services
    (tests, benchmarks), which may switch a messenger channel on."""
    channels = yaml.safe_load(path.read_text()) or {}
    if "rest" in channels:
        raise ValueError(
            f"{path}: Rasas REST-Kanal ohne Anmeldung (`rest:`) ist nicht erlaubt; "
            "REST_CHANNEL_TOKEN schaltet unseren REST-Kanal ein"
        )
    if settings.rest_channel_token:
        # The channel reads its token from REST_CHANNEL_TOKEN in Rasa's environment.
        channels[REST_CHANNEL] = None
    if settings.metrics_token:
        # Prometheus scrapes GET /webhooks/metrics/ with this token (rasa_runtime/metrics.py).
        channels[METRICS_CHANNEL] = None
    if settings.matrix_channel_token:
        # The Matrix connector's side in Rasa (token MATRIX_CHANNEL_TOKEN in Rasa's environment).
        channels[MATRIX_CHANNEL] = None
    configured = get_settings()
    for channel, required in MESSENGER_CHANNELS.items():
        if all(getattr(configured, name, None) or (extra_env or {}).get(name.upper()) for name in required):
            channels[channel] = None
    return channels
