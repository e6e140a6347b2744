"""Run only the Rasa server, configured from the environment (for containers).

    python -m bot.serve [--host 0.0.0.0]
"""

from __future__ import annotations

import argparse
import os
import sys

import yaml

from bot.settings import Settings, endpoints
from bot.stack import CREDENTIALS
from bot.training import ensure_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    settings = Settings()
    model = ensure_model(quiet=True)
    path = settings.var_dir / "endpoints-serve.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(endpoints(settings), sort_keys=False))
    command = [
        sys.executable, "-m", "bot.rasa_process", "run", "--model", str(model), "--endpoints", str(path),
        "--credentials", str(CREDENTIALS), "--interface", args.host, "--port", str(settings.rasa_port),
        "--enable-api", f"--auth-token={settings.rasa_api_token}",  # "=": a token may start with "-"
    ]
    os.execv(sys.executable, command)


if __name__ == "__main__":
    main()
