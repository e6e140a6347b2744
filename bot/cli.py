"""Command line of the assistant: ``python -m bot <command>``.

run        start portal backend, action server, Rasa and the demo page (Ctrl-C stops all)
train      train the model if its inputs changed (--force to retrain)
generate   write the domain fragments derived from the catalogue (--check: only compare)
discover   rank procedures for utterances read from stdin, one JSON object per line
reload     retrain after a content change and load the model into the running assistant
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys

from bot import generate
from bot.settings import REPO_ROOT, Settings
from buergerassistent.settings import reload_settings


def cmd_generate(args: argparse.Namespace) -> int:
    if args.check:
        stale = generate.out_of_date()
        for path in stale:
            print(f"{path.relative_to(REPO_ROOT)}: veraltet; bitte `python -m bot generate` ausführen")
        return 1 if stale else 0
    for path in generate.write():
        print(f"geschrieben: {path.relative_to(REPO_ROOT)}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from bot.training import ensure_model

    ensure_model(force=args.force)
    return 0


def cmd_reload(args: argparse.Namespace) -> int:
    from content.reload import main as reload_main

    return reload_main(force=args.force)


def cmd_discover(args: argparse.Namespace) -> int:
    """The assistant's own decision: the trained NLU model + catalogue retrieval.

    One JSON line per utterance: ``text``, ``procedures`` (ranked, best first; [] when the chat
    would not name a procedure) and ``decision``: what the chat does with this message at the
    start of a conversation (answer | choice | none; buergerassistent/procedure_finder.py)."""
    import logging

    from bot.nlu_model import NluModel
    from bot.routes import runs_discovery, runs_request
    from bot.training import ensure_model
    from buergerassistent.first_message import decide
    from buergerassistent.procedure_finder import discovery, first_message_intent

    logging.disable(logging.WARNING)
    nlu = NluModel(ensure_model(quiet=True))
    discovery()  # build the index before the first query
    for line in sys.stdin:
        text = line.strip()
        if not text:
            continue
        intent, confidence = first_message_intent(text, *nlu.intent(text))  # as the chat's guard reads it
        decision = decide(
            text, intent, confidence, routed=runs_discovery(intent), as_request=runs_request(intent), top=args.top
        )
        procedures = [{"id": c.id, "score": round(float(c.score), 4)} for c in decision.ranked]
        line = {"text": text, "procedures": procedures, "decision": decision.decision}
        print(json.dumps(line, ensure_ascii=False), flush=True)
    return 0


async def _serve_demo(settings: Settings):
    import html

    from aiohttp import web

    from buergerassistent.http_security import CSP, OPENER_POLICY, content_security_policy, security_headers_middleware

    demo_dir = REPO_ROOT / "webchat" / "demo"
    # The widget built by `make webchat` (webchat/widget); the page embeds it with one script tag.
    widget_dir = REPO_ROOT / "webchat" / "dist"
    widget_dir.mkdir(parents=True, exist_ok=True)

    async def index(_request):
        page = (demo_dir / "index.html").read_text().replace("__RASA_URL__", html.escape(settings.rasa_url))
        return web.Response(text=page, content_type="text/html")

    async def stylesheet(_request):
        return web.FileResponse(demo_dir / "demo.css")

    app = web.Application(middlewares=[security_headers_middleware])
    # The page's scripts and styles are files of its own origin; the widget talks to Rasa.
    app[CSP] = content_security_policy(connect_src=[settings.rasa_url])
    # The widget opens the login window and receives the login code from it (window.opener).
    app[OPENER_POLICY] = "same-origin-allow-popups"
    app.router.add_get("/", index)
    app.router.add_get("/demo.css", stylesheet)
    app.router.add_static("/widget/", widget_dir)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.host, settings.demo_port).start()
    return runner


def local_demo_login_default(environ) -> str | None:
    """`make run` is a local demo without an IdP: login is off there unless the user set
    BA_LOGIN_REQUIRED (README). Everywhere else it is on by default (actions/login.py)."""
    if "BA_LOGIN_REQUIRED" in environ:
        return None
    environ["BA_LOGIN_REQUIRED"] = "0"
    return (
        "Hinweis: Die Anmeldung mit Nutzerkonto ist in dieser lokalen Demo aus (einschalten mit BA_LOGIN_REQUIRED=1)."
    )


def cmd_run(args: argparse.Namespace) -> int:
    from bot.stack import Stack, StackError
    from bot.training import ensure_model

    changed = generate.write()
    for path in changed:
        print(f"Aus dem Katalog neu erzeugt: {path.relative_to(REPO_ROOT)}")
    model = ensure_model()
    # The children inherit the demo default from our environment; our settings see it too.
    note = local_demo_login_default(os.environ)
    reload_settings()
    if note:
        print(note, flush=True)
    settings = Settings()
    stack = Stack(settings, model, cors_origins=[settings.demo_url, f"http://localhost:{settings.demo_port}"])
    print("Starte die Dienste …", flush=True)
    try:
        stack.start(progress=lambda msg: print(msg, flush=True))
    except StackError as exc:
        print(exc, file=sys.stderr)
        return 1
    from content.reload import remove_api_file, write_api_file

    # `python -m bot reload` (content editors) finds this server and its API token here.
    write_api_file(settings.rasa_url, settings.rasa_api_token)

    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    def request_stop(*_):
        loop.call_soon_threadsafe(stop.set)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, request_stop)

    async def main() -> int:
        runner = await _serve_demo(settings)
        rest_line = (
            f"{settings.rasa_url}/webhooks/rest/webhook (mit „Authorization: Bearer $REST_CHANNEL_TOKEN“)"
            if settings.rest_channel_token
            else "aus (einschalten: REST_CHANNEL_TOKEN=… make run)"
        )
        matrix_line = (
            f"{settings.matrix_user_id} auf {settings.matrix_homeserver_url} (direkten Chat öffnen)"
            if settings.matrix_enabled
            else "aus (einschalten: MATRIX_HOMESERVER_URL, MATRIX_USER_ID, MATRIX_PASSWORD; docs/matrix.md)"
        )
        print(
            "\nDer Bürgerassistent läuft:\n"
            f"  Demo-Seite:      {settings.demo_url}/\n"
            f"  REST-Kanal:      {rest_line}\n"
            f"  Web-Chat:        {settings.rasa_url}/socket.io (Widget auf der Demo-Seite)\n"
            f"  Matrix:          {matrix_line}\n"
            f"  Portal-Backend:  {settings.portal_url}/api/v1/applications/<Aktenzeichen>"
            f"  (API: {settings.portal_url}/openapi.yaml; Anträge lesen nur mit Authorization: Bearer "
            f"$PORTAL_AUTHORITY_TOKEN, ohne gesetzte Variable zufällig je Start)\n"
            f"  Action-Server:   http://{settings.host}:{settings.action_port}/health\n"
            f"  Anmeldedienst:   {stack.service('login').health_url.removesuffix('/health')}"
            "  (BundID/BayernID, OIDC; der Chat schickt die Links)\n"
            f"  Logs:            {settings.var_dir / 'logs'}\n"
            "Beenden mit Strg-C.",
            flush=True,
        )
        code = 0
        while not stop.is_set():
            dead = [s for s in stack.services if s.process.poll() is not None]
            if dead:
                for s in dead:
                    print(f"{s.name} hat sich beendet. Log:\n{s.log_tail()}", file=sys.stderr)
                code = 1
                break
            try:
                await asyncio.wait_for(stop.wait(), timeout=1)
            except asyncio.TimeoutError:
                pass
        await runner.cleanup()
        return code

    try:
        code = loop.run_until_complete(main())
    finally:
        print("\nStoppe die Dienste …", flush=True)
        remove_api_file()
        stack.stop()
        loop.close()
        print("Beendet.", flush=True)
    return code


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="start the whole assistant locally").set_defaults(func=cmd_run)
    p = sub.add_parser("train", help="train the model if needed")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_train)
    p = sub.add_parser("generate", help="derive domain fragments from the catalogue")
    p.add_argument("--check", action="store_true", help="only report files that are out of date")
    p.set_defaults(func=cmd_generate)
    p = sub.add_parser("reload", help="retrain if needed and load the model into the running assistant")
    p.add_argument("--force", action="store_true", help="retrain even if the content is unchanged")
    p.set_defaults(func=cmd_reload)
    p = sub.add_parser("discover", help="rank procedures for utterances on stdin")
    p.add_argument("--top", type=int, default=3)
    p.set_defaults(func=cmd_discover)
    args = parser.parse_args(argv)
    sys.exit(args.func(args))
