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
