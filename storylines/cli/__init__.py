"""Command-line interface; importing the command modules registers them on the app.

Exit codes (also in the README): 0 done; 1 the command could not run (unusable store, I/O
error), with a one-line message; 2 a usage error, or some inputs were skipped; 130 interrupted.
"""

import sqlite3
import sys

from storylines.cli import cluster_cmds, compare_cmd, inspect_cmd, serve_cmds  # noqa: F401
from storylines.cli.app import app
from storylines.settings import SettingsError
from storylines.skips import one_line
from storylines.store import StoreError

EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


def main() -> None:
    """Run the app; errors a user can fix end in one line on stderr, not a traceback."""
    try:
        app()
    except (StoreError, SettingsError, sqlite3.Error, OSError) as error:
        kind = "" if isinstance(error, StoreError | SettingsError) else f"{type(error).__name__}: "
        print(f"storylines: {one_line(kind + str(error), 500)}", file=sys.stderr)
        sys.exit(EXIT_FAILED)
    except KeyboardInterrupt:
        print("storylines: interrupted", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
