"""The commands and files the launcher builds: Rasa reads them as meant, and no secret is on a
command line (readable by every user of the machine in `ps` and /proc/<pid>/cmdline)."""

from pathlib import Path

import pytest
import yaml
from rasa.__main__ import create_argument_parser

from bot.local_stack import local_settings
from bot.settings import REST_CHANNEL, credentials
from bot.stack import Stack
from rasa_runtime import process as rasa_process


def built(tmp_path, **overrides) -> Stack:
    stack = Stack(local_settings(tmp_path, **overrides), Path("model.tar.gz"))
    stack.build()
    return stack


def test_no_secret_on_any_command_line(tmp_path):
    stack = built(
        tmp_path, rasa_api_token="api-Zr4nd0m", action_server_token="act-Zr4nd0m", rest_channel_token="rest-Zr4nd0m"
    )
    for service in stack.services:
        line = " ".join(service.command)
        for secret in ("api-Zr4nd0m", "act-Zr4nd0m", "rest-Zr4nd0m"):
            assert secret not in line, service.name
    # They reach Rasa through its environment.
    rasa = stack.service("rasa").env
    assert rasa["RASA_API_TOKEN"] == "api-Zr4nd0m"
    assert rasa["ACTION_SERVER_TOKEN"] == "act-Zr4nd0m"
    assert rasa["REST_CHANNEL_TOKEN"] == "rest-Zr4nd0m"


def test_an_api_token_starting_with_a_dash_reaches_rasa(tmp_path):
    # secrets.token_urlsafe() starts with "-" about once in 64 starts; argparse then took it
    # for an option and Rasa did not start. Rasa gets it inside its process from the environment.
    stack = built(tmp_path, rasa_api_token="-Zr4nd0m")
    service = stack.service("rasa")
    assert not any("auth-token" in part for part in service.command)
    argv = rasa_process.rasa_arguments(service.command[2:], service.env)
    args = create_argument_parser().parse_args(argv[argv.index("run") :])
    assert args.auth_token == "-Zr4nd0m"
    assert args.enable_api


def test_rasa_refuses_an_api_without_token_or_with_one_on_the_command_line():
    argv = ["rasa_runtime.process", "run", "--enable-api"]
    with pytest.raises(SystemExit):
        rasa_process.rasa_arguments(argv, {})
    with pytest.raises(SystemExit):
        rasa_process.rasa_arguments([*argv, "--auth-token=x"], {"RASA_API_TOKEN": "x"})
    assert rasa_process.rasa_arguments(["rasa_runtime.process", "train"], {}) == ["rasa_runtime.process", "train"]


def test_action_server_listens_on_the_configured_host_only(tmp_path):
    command = built(tmp_path).service("action-server").command
    assert command[1:3] == ["-m", "actions.server"]
    assert command[command.index("--host") + 1] == "127.0.0.1"


def test_rasa_sends_the_action_server_token_from_its_environment(tmp_path, monkeypatch):
    from rasa.utils.endpoints import read_endpoint_config

    stack = built(tmp_path, action_server_token="act-Zr4nd0m")
    command = stack.service("rasa").command
    path = command[command.index("--endpoints") + 1]
    assert "act-Zr4nd0m" not in Path(path).read_text()
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "act-Zr4nd0m")
    endpoint = read_endpoint_config(path, "action_endpoint")
    assert endpoint.headers == {"Authorization": "Bearer act-Zr4nd0m"}


def test_rest_channel_only_with_a_token(tmp_path):
    def channels(**overrides):
        stack = built(tmp_path, **overrides)
        command = stack.service("rasa").command
        return yaml.safe_load(Path(command[command.index("--credentials") + 1]).read_text())

    without = channels(rest_channel_token=None)
    assert REST_CHANNEL not in without and "rest" not in without
    assert "rasa_runtime.channels.webchat.channel.WebChatInput" in without
    with_token = channels(rest_channel_token="rest-Zr4nd0m")
    assert REST_CHANNEL in with_token and "rest" not in with_token
    assert "rest-Zr4nd0m" not in yaml.safe_dump(with_token)


def test_rasa_s_open_rest_channel_is_refused(tmp_path):
    path = tmp_path / "credentials.yml"
    path.write_text("rest:\n")
    with pytest.raises(ValueError):
        credentials(local_settings(tmp_path), path)


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


def test_rasa_and_channel_credentials_reach_only_the_services_that_need_them(tmp_path):
    stack = built(tmp_path, action_server_token="act-Zr4nd0m", rest_channel_token="rest-Zr4nd0m")
    holders = {
        "ACTION_SERVER_TOKEN": {"rasa", "action-server"},
        "REST_CHANNEL_TOKEN": {"rasa"},
        "RASA_API_TOKEN": {"rasa", "submission-worker", "login"},
    }
    for name, services in holders.items():
        assert {s.name for s in stack.services if name in s.env} == services, name
