"""The embedded MongoDB server process: nx-27017's wire-protocol handler on a Unix socket.

nx-27017 has no authentication and listens only on TCP, where every local user can read,
change and drop its databases. Served on a Unix socket instead, inside the data directory
(mode 0700), the kernel admits only the data directory's owner (and root). The umask makes
every file it creates (SQLite databases, their journals, the socket) its owner's alone.

    python -m twin_scraper.stores.mongo_server --db-dir DIR --socket PATH

Started and stopped by `twin_scraper.stores.embedded_mongo`, never by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from pathlib import Path

from nx_27017.handler import NeoSQLiteHandler
from nx_27017.server import handle_client

logger = logging.getLogger("twin_scraper.mongo_server")


def make_private(path: Path) -> None:
    """Owner-only permissions on what an earlier version left readable to all."""
    for item in (path, *path.iterdir()):
        if item.stat().st_mode & 0o077:
            item.chmod(0o700 if item.is_dir() else 0o600)


async def serve(db_dir: Path, socket_path: Path) -> None:
    handler = NeoSQLiteHandler(data_dir=str(db_dir), journal_mode="WAL")
    # The caller holds the data directory's lock and found no live server: a socket
    # file left by a killed one would make the bind fail.
    socket_path.unlink(missing_ok=True)
    server = await asyncio.start_unix_server(
        lambda reader, writer: handle_client(reader, writer, handler), path=str(socket_path)
    )
    logger.info("Serving %s on %s", db_dir, socket_path)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with server:
        await stop.wait()
    with contextlib.suppress(FileNotFoundError):
        socket_path.unlink()
    logger.info("Stopped")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m twin_scraper.stores.mongo_server")
    parser.add_argument("--db-dir", type=Path, required=True, help="one SQLite file a database")
    parser.add_argument("--socket", type=Path, required=True, help="the Unix socket to serve on")
    args = parser.parse_args(argv)
    os.umask(0o077)
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    args.db_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    make_private(args.db_dir)
    asyncio.run(serve(args.db_dir, args.socket))


if __name__ == "__main__":
    main()
