"""Start the Rasa server with the payload guard and our run-time fixes (rasa_runtime/patches.py).

    python -m rasa_runtime.process run --model … (the same arguments as `rasa`)

With ``--enable-api``, the API token comes from ``RASA_API_TOKEN`` in the environment and is
added to Rasa's arguments inside this process: a token on the command line would be readable by
every user of the machine (``ps``, ``/proc/<pid>/cmdline``).

The payload guard (rasa_runtime/channels/payload_guard.py) is a security measure: installed
always, whatever ``BA_RASA_PATCHES`` says and on any Rasa version; where it cannot be installed
the process stops. The speed fixes follow ``BA_RASA_PATCHES`` and run only on the Rasa version
they were written for (``rasa_runtime.patches.enabled_groups``).
"""

from __future__ import annotations

import sys

# One thread per numeric library, before numpy and TensorFlow load (buergerassistent/math_threads.py).
from buergerassistent.math_threads import one_thread_each

one_thread_each()

from buergerassistent import logs  # noqa: E402
from buergerassistent.settings import get_settings, startup_settings  # noqa: E402
from rasa_runtime.patches import SWITCH as PATCH_SWITCH  # noqa: E402
from rasa_runtime.patches import apply_patches  # noqa: E402


class MissingApiToken(SystemExit):
    pass


class GuardMissing(SystemExit):
    pass


def rasa_arguments(argv: list[str], environ=None) -> list[str]:
    """Rasa's arguments: ``argv`` plus ``--auth-token`` from ``RASA_API_TOKEN`` for the API
    (from ``environ`` when given, else from the settings)."""
    if len(argv) < 2 or argv[1] != "run" or "--enable-api" not in argv:
        return argv
    if any(a == "--auth-token" or a.startswith("--auth-token=") for a in argv):
        raise MissingApiToken("Das API-Token gehört nicht auf die Kommandozeile: bitte RASA_API_TOKEN setzen.")
    token = environ.get("RASA_API_TOKEN") if environ is not None else get_settings().rasa_api_token
    if not token:
        raise MissingApiToken("RASA_API_TOKEN fehlt: ohne Token wäre Rasas HTTP-API offen.")
    # "=" form: a random token may start with "-", which argparse would take for an option.
    return [*argv, f"--auth-token={token}"]


def install_guard() -> None:
    """The payload guard, or the process stops: never a Rasa process without it."""
    from rasa_runtime.channels import payload_guard

    try:
        payload_guard.install()
    except payload_guard.GuardNotApplicable as error:
        raise GuardMissing(str(error)) from error


def main() -> None:
    startup_settings()  # invalid settings (e.g. production without BA_SECRET_KEY): stop here
    # Changes only Python's copy of the arguments; /proc/<pid>/cmdline keeps what was started.
    sys.argv = rasa_arguments(sys.argv)
    install_guard()
    from rasa_runtime import intent_guard

    intent_guard.install()  # actions with consequences need certainty; English messages (issue 15)
    from rasa_runtime import handoff_guard

    handoff_guard.install()  # issue 19: while handed over, messages go to staff
    from rasa_runtime import outage

    # Store outages are told to the citizen, never answered from an empty tracker (issue 18).
    outage.install()
    from rasa_runtime import idempotency

    idempotency.install()  # a message sent again with its id is answered, not processed twice (issue 18)
    from rasa_runtime import metrics

    metrics.install()  # Prometheus counters of the NLU (served by rasa_runtime.metrics.MetricsChannel)
    from rasa_runtime import shutdown

    # Last of the turn wrappers: on SIGTERM the whole turn is waited for (rolling update, issue 18).
    shutdown.install()
    groups = apply_patches()
    # Before Rasa sets up its logging: on stderr, so the service log shows what runs.
    print(f"Rasa-Optimierungen ({PATCH_SWITCH}): {', '.join(sorted(groups)) or 'keine'}", file=sys.stderr, flush=True)
    import rasa.__main__ as rasa_cli
    import rasa.utils.io as rasa_io

    # Rasa sets up its log handlers twice (plain, then coloredlogs on the root logger): after
    # each, ours add the request id and, with BA_LOG_FORMAT=json, the JSON lines.
    def then_ours(configure):
        def configure_logging(*args, **kwargs):
            configure(*args, **kwargs)
            logs.configure("rasa")

        return configure_logging

    rasa_cli.configure_logging_and_warnings = then_ours(rasa_cli.configure_logging_and_warnings)
    rasa_io.configure_colored_logging = then_ours(rasa_io.configure_colored_logging)
    rasa_cli.main()


if __name__ == "__main__":
    main()
