"""Command-line interface; importing the command modules registers them on the app."""

from storylines.cli import cluster_cmds, compare_cmd, inspect_cmd, serve_cmds  # noqa: F401
from storylines.cli.app import app


def main() -> None:
    app()
