"""The Rasa command line the launcher builds is read by Rasa as meant."""

from pathlib import Path

from rasa.__main__ import create_argument_parser

from bot.local_stack import local_settings
from bot.stack import Stack


def test_an_api_token_starting_with_a_dash_reaches_rasa(tmp_path):
    # secrets.token_urlsafe() starts with "-" about once in 64 starts; argparse then took it
    # for an option and Rasa did not start.
    stack = Stack(local_settings(tmp_path, rasa_api_token="-Zr4nd0m"), Path("model.tar.gz"))
    stack.build()
    command = stack.service("rasa").command
    args = create_argument_parser().parse_args(command[command.index("run"):])
    assert args.auth_token == "-Zr4nd0m"
    assert args.enable_api


def test_portal_credentials_are_generated_and_reach_only_the_services_that_need_them(tmp_path, monkeypatch):
    names = ("PORTAL_API_TOKEN", "PORTAL_AUTHORITY_TOKEN", "PORTAL_CITIZEN_KEY")
    for name in names:
        monkeypatch.delenv(name, raising=False)
    stack = Stack(local_settings(tmp_path), Path("model.tar.gz"))
    stack.build()
    backend = stack.service("portal-backend").env
    values = [backend[name] for name in names]
    assert len(set(values)) == 3 and all(len(v) >= 32 for v in values)  # random, all different
    assert [stack.secret(name) for name in names] == values  # the same for the whole start
    for name in ("action-server", "submission-worker"):
        env = stack.service(name).env
        assert env["PORTAL_API_TOKEN"] == backend["PORTAL_API_TOKEN"]
        assert env["PORTAL_CITIZEN_KEY"] == backend["PORTAL_CITIZEN_KEY"]
        assert "PORTAL_AUTHORITY_TOKEN" not in env
    for name in ("rasa", "login"):
        assert not set(names) & set(stack.service(name).env)
    for service in stack.services:  # never on a command line (visible in the process list)
        assert not any(v in arg for v in values for arg in service.command)
    # A second start generates new ones; set variables win.
    assert Stack(local_settings(tmp_path), Path("m")).secret("PORTAL_API_TOKEN") != values[0]
    monkeypatch.setenv("PORTAL_API_TOKEN", "from-the-environment-0123456789")
    assert Stack(local_settings(tmp_path), Path("m")).secret("PORTAL_API_TOKEN") == "from-the-environment-0123456789"
