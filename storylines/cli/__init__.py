"""Command-line interface; importing the command modules registers them on the app."""

from storylines.cli import cluster_cmds  # noqa: F401
from storylines.cli import compare_cmd  # noqa: F401
from storylines.cli import inspect_cmd  # noqa: F401
from storylines.cli import serve_cmds  # noqa: F401
from storylines.cli.app import app


def main() -> None:
    app()
