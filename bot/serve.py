"""Run only the Rasa server, configured from the environment (for containers).

    python -m bot.serve [--host 0.0.0.0]

Secrets come from the environment and stay there: RASA_API_TOKEN (rasa_runtime/process.py hands it
to Rasa inside the process), ACTION_SERVER_TOKEN (read by Rasa from the endpoints file's
``${ACTION_SERVER_TOKEN}``), REST_CHANNEL_TOKEN (only if the REST channel should exist).
"""

from __future__ import annotations

import argparse
import os
import sys

import yaml

from bot.settings import Settings, credentials, endpoints
from bot.training import ensure_model
from buergerassistent.settings import get_settings, startup_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=startup_settings().ba_host)
    args = parser.parse_args()
    settings = Settings()
    for name in ("RASA_API_TOKEN", "ACTION_SERVER_TOKEN"):
        if not getattr(get_settings(), name.lower()):
            sys.exit(f"{name} fehlt: bitte einen langen Zufallswert setzen (gleich für alle Dienste).")
    model = ensure_model(quiet=True)
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    endpoints_path = settings.var_dir / "endpoints-serve.yml"
    endpoints_path.write_text(yaml.safe_dump(endpoints(settings), sort_keys=False))
    credentials_path = settings.var_dir / "credentials-serve.yml"
    credentials_path.write_text(yaml.safe_dump(credentials(settings), sort_keys=False))
    command = [
        sys.executable,
        "-m",
        "rasa_runtime.process",
        "run",
        "--model",
        str(model),
        "--endpoints",
        str(endpoints_path),
        "--credentials",
        str(credentials_path),
        "--interface",
        args.host,
        "--port",
        str(settings.rasa_port),
        "--enable-api",
    ]
    # Uploads are HTTP requests from the portal's pages: the same origins as the chat socket
    # (WEBCHAT_ALLOWED_ORIGINS), as `make run` gives its demo page's origin (bot/stack.py).
    origins = [o.strip() for o in get_settings().webchat_allowed_origins.split(",") if o.strip()]
    if origins:
        command += ["--cors", *origins]
    os.execv(sys.executable, command)


if __name__ == "__main__":
    main()
