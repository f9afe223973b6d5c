"""The embedded MongoDB: an nx-27017 wire-protocol server over SQLite files.

With `MONGODB_URI` unset, every process that needs MongoDB calls `ensure_server(data_dir)`:
the first starts the server on a free 127.0.0.1 port and records it in
`<data_dir>/mongo.json`; later ones (other crawls, Scrapyd jobs, `twin search`) reuse it.
A file lock makes the check-then-start atomic across processes, and a server that died is
started again on next use, on its old port when that is free, so clients that were
connected to it (a crawl in progress) reconnect by themselves. The code path is real
pymongo in both cases.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pymongo
from pymongo.errors import PyMongoError

from twin_scraper.stores.filelock import locked

logger = logging.getLogger(__name__)

STATE_FILE = "mongo.json"
# One SQLite file per database in this directory (nx-27017's files mode). Its single-file
# mode would ignore database names: every database would share the same collections.
DB_DIR = "mongo"
LOG_FILE = "mongo.log"
START_TIMEOUT = 30.0


class EmbeddedMongoError(RuntimeError):
    """The embedded server could not be started; the message says why and where its log is."""


def ensure_server(data_dir: str | Path) -> str:
    """Return the URI of the embedded server for `data_dir`, starting it if needed."""
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    with locked(data_dir / "mongo.lock"):
        state = _read_state(data_dir)
        if state and _ours(state["pid"], data_dir):
            if _ping(state["port"], attempts=3):
                return _uri(state["port"])
            # Ours, alive, yet silent through three pings: hung, and holding the SQLite file.
            _terminate(state["pid"])
        elif state:
            _wait_exit(state["pid"])  # a server that was just killed may still be exiting
        return _start(data_dir, state["port"] if state else None)


def stop_server(data_dir: str | Path) -> bool:
    """Stop the embedded server of `data_dir`; False if none was running."""
    data_dir = Path(data_dir).resolve()
    if not data_dir.is_dir():
        return False
    with locked(data_dir / "mongo.lock"):
        state = _read_state(data_dir)
        (data_dir / STATE_FILE).unlink(missing_ok=True)
        if not state or not _ours(state["pid"], data_dir):
            return False
        _terminate(state["pid"])
        return True


def server_status(data_dir: str | Path) -> dict | None:
    """The running server's pid, port and URI, or None."""
    data_dir = Path(data_dir).resolve()
    state = _read_state(data_dir)
    if state and _ours(state["pid"], data_dir) and _ping(state["port"]):
        return {**state, "uri": _uri(state["port"])}
    return None


def _start(data_dir: Path, old_port: int | None = None) -> str:
    port = old_port if old_port and _port_free(old_port) else _free_port()
    log_path = data_dir / LOG_FILE
    command = [
        sys.executable,
        "-m",
        "nx_27017.nx_27017",
        "--data-dir",
        str(data_dir / DB_DIR),
        "--host",
        "127.0.0.1",
        "-p",
        str(port),
        "--log-file",
        str(log_path),
        "--pid-file",
        str(data_dir / "mongo.pid"),
    ]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
            cwd=data_dir,
            start_new_session=True,  # outlives this process: later jobs reuse it
        )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EmbeddedMongoError(
                f"the embedded MongoDB server (nx-27017) exited with code {process.returncode} "
                f"at start; see {log_path}"
            )
        if _ping(port):
            (data_dir / STATE_FILE).write_text(
                json.dumps({"pid": process.pid, "port": port, "db": str(data_dir / DB_DIR)})
            )
            logger.info(
                "Started embedded MongoDB (nx-27017) on 127.0.0.1:%d for %s; it keeps running "
                "for later crawls (stop it with `twin mongo stop`)",
                port,
                data_dir,
            )
            return _uri(port)
        time.sleep(0.1)
    _terminate(process.pid)
    raise EmbeddedMongoError(
        f"the embedded MongoDB server (nx-27017) did not answer within {START_TIMEOUT:.0f} s; "
        f"see {log_path}"
    )


def _uri(port: int) -> str:
    return f"mongodb://127.0.0.1:{port}/"


def _ping(port: int, attempts: int = 1) -> bool:
    client = pymongo.MongoClient(_uri(port), serverSelectionTimeoutMS=1500, connectTimeoutMS=1500)
    try:
        for _ in range(attempts):
            try:
                client.admin.command("ping")
                return True
            except PyMongoError:
                continue
        return False
    finally:
        client.close()


def _command(pid: int) -> str:
    """The command line of a live process ("" for a zombie or an unknown pid)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:  # no /proc (macOS)
        result = subprocess.run(
            ["ps", "-p", str(pid), "-o", "command="], capture_output=True, text=True
        )
        return result.stdout


def _ours(pid: int, data_dir: Path) -> bool:
    """Is `pid` alive and the nx-27017 server of this data directory? A pid recorded
    before a reboot or crash may belong to any other process by now: never signal it."""
    command = _command(pid) if _alive(pid) else ""
    return "nx_27017" in command and str(data_dir / DB_DIR) in command


def _wait_exit(pid: int, timeout: float = 5.0) -> None:
    """Wait (without signalling) for a dying process: one with no command line left."""
    deadline = time.monotonic() + timeout
    while _alive(pid) and not _command(pid).strip() and time.monotonic() < deadline:
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(ChildProcessError):
        # Our own child that exited is a zombie until reaped: reap it, then it is gone.
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    return True


def _terminate(pid: int, timeout: float = 10.0) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _port_free(port: int) -> bool:
    """Can the server listen there? (It sets SO_REUSEADDR: old connections do not count.)"""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _read_state(data_dir: Path) -> dict | None:
    try:
        state = json.loads((data_dir / STATE_FILE).read_text())
        return (
            state
            if isinstance(state.get("pid"), int) and isinstance(state.get("port"), int)
            else None
        )
    except (OSError, ValueError, AttributeError):
        return None
