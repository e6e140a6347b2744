"""``python -m insights`` — the insights service (docs/insights.md).

python -m insights consume            read Rasa's events from RabbitMQ (INSIGHTS_BROKER_URL);
                                      /health and /metrics on --port (INSIGHTS_CONSUMER_PORT)
python -m insights dashboard          the staff dashboard (OIDC login, INSIGHTS_OIDC_*)
python -m insights figures [--week]   the figures as JSON
python -m insights purge              fold facts older than INSIGHTS_RETENTION_DAYS into daily figures
python -m insights forget ID          delete one conversation's facts (also privacy.forget_conversation)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys

from buergerassistent.insights import Insights, default_since, to_json
from buergerassistent.settings import SettingsError, get_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m insights", description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="SQLAlchemy URL (default INSIGHTS_DATABASE_URL)")
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("consume", help="read Rasa's events from RabbitMQ")
    c.add_argument("--host", default=None, help="address of /health and /metrics (default BA_HOST)")
    c.add_argument(
        "--port", type=int, default=None, help="port of /health and /metrics (default INSIGHTS_CONSUMER_PORT)"
    )
    f = sub.add_parser("figures", help="print the figures as JSON")
    f.add_argument("--since", default=None, help="first day, YYYY-MM-DD (default: 28 days ago)")
    f.add_argument("--until", default=None)
    f.add_argument("--channel", default=None)
    f.add_argument("--week", action="store_true", help="per week instead of per day")
    p = sub.add_parser("purge", help="apply the retention period")
    p.add_argument("--days", type=int, default=None, help="retention in days (default INSIGHTS_RETENTION_DAYS)")
    g = sub.add_parser("forget", help="delete one conversation's facts")
    g.add_argument("conversation_id")
    args = parser.parse_args(argv)
    logging.basicConfig(level=get_settings().log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = get_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    store = Insights(args.database)
    if args.command == "consume":
        if not settings.insights_broker_url:
            print("INSIGHTS_BROKER_URL ist nicht gesetzt: ohne RabbitMQ gibt es keine Ereignisse.", file=sys.stderr)
            return 2
        from insights.consumer import serve

        try:
            asyncio.run(
                serve(
                    store,
                    settings.insights_broker_url,
                    settings.insights_exchange,
                    settings.insights_queue,
                    args.host or settings.ba_host,
                    args.port or settings.insights_consumer_port,
                )
            )
        except KeyboardInterrupt:
            pass
        return 0
    if args.command == "figures":
        figures = store.figures(args.since or default_since(), args.until, args.channel, "week" if args.week else "day")
        print(json.dumps(to_json(figures), ensure_ascii=False, indent=1))
        return 0
    if args.command == "purge":
        n = store.purge(retention_days=args.days)
        print(f"{n} ältere Einträge in Tageszahlen zusammengefasst und gelöscht.")
        return 0
    if args.command == "forget":
        n = store.forget_conversation(args.conversation_id)
        print(f"Gespräch gelöscht ({n} Einträge).")
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
