"""The embedded MongoDB: an nx-27017 wire-protocol server over SQLite files.

With `MONGODB_URI` unset, every process that needs MongoDB calls `ensure_server(data_dir)`:
the first starts the server (`twin_scraper.stores.mongo_server`) on a Unix socket in the
data directory and records it in `<data_dir>/mongo.json`; later ones (other crawls, Scrapyd
jobs, `twin search`) reuse it. nx-27017 has no authentication: on TCP any local user could
read, change or drop the corpus, so it gets no TCP port at all; the data directory is
created 0700 and the server's files 0600, and the kernel admits only their owner to the
socket. A file lock makes the check-then-start atomic across processes, and a server that
died is started again on next use on the same socket, so clients that were connected to it
(a crawl in progress) reconnect by themselves. The code path is real pymongo in both cases.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import pymongo
from pymongo.errors import PyMongoError

import twin_scraper
from twin_scraper.stores.filelock import locked
from twin_scraper.stores.private import private_dir

logger = logging.getLogger(__name__)

STATE_FILE = "mongo.json"
# One SQLite file per database in this directory (nx-27017's files mode). Its single-file
# mode would ignore database names: every database would share the same collections.
DB_DIR = "mongo"
LOG_FILE = "mongo.log"
SOCKET_FILE = "mongo.sock"
SERVER_MODULE = "twin_scraper.stores.mongo_server"
#: A Unix socket's path may not exceed 108 bytes (104 on macOS).
MAX_SOCKET_PATH = 100
START_TIMEOUT = 30.0


class EmbeddedMongoError(RuntimeError):
    """The embedded server could not be started; the message says why and where its log is."""


def ensure_server(data_dir: str | Path) -> str:
    """Return the URI of the embedded server for `data_dir`, starting it if needed."""
    data_dir = private_dir(Path(data_dir).resolve())
    with locked(data_dir / "mongo.lock"):
        state = _read_state(data_dir)
        if state and _ours(state["pid"], data_dir):
            if state["socket"] and _ping(_uri(state["socket"]), attempts=3):
                return _uri(state["socket"])
            # Ours, alive, yet silent through three pings: hung, and holding the SQLite file
            # (or an earlier version's server on TCP, open to every local user).
            _terminate(state["pid"])
        elif state:
            _wait_exit(state["pid"])  # a server that was just killed may still be exiting
        return _start(data_dir)


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
    """The running server's pid, socket and URI, or None."""
    data_dir = Path(data_dir).resolve()
    state = _read_state(data_dir)
    if state and _ours(state["pid"], data_dir) and state["socket"]:
        uri = _uri(state["socket"])
        if _ping(uri):
            return {**state, "uri": uri}
    return None


def _start(data_dir: Path) -> str:
    socket_path = _socket_path(data_dir)
    log_path = data_dir / LOG_FILE
    command = [
        sys.executable,
        "-m",
        SERVER_MODULE,
        "--db-dir",
        str(data_dir / DB_DIR),
        "--socket",
        str(socket_path),
    ]
    # Importable however this process got twin_scraper (a checkout, or a Scrapyd egg).
    package_root = str(Path(twin_scraper.__file__).resolve().parent.parent)
    python_path = os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))
    log = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
            cwd=data_dir,
            env={**os.environ, "PYTHONPATH": python_path},
            start_new_session=True,  # outlives this process: later jobs reuse it
        )
    finally:
        os.close(log)
    uri = _uri(socket_path)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EmbeddedMongoError(
                f"the embedded MongoDB server (nx-27017) exited with code {process.returncode} "
                f"at start; see {log_path}"
            )
        if _ping(uri):
            state = {"pid": process.pid, "socket": str(socket_path), "db": str(data_dir / DB_DIR)}
            (data_dir / STATE_FILE).write_text(json.dumps(state))
            logger.info(
                "Started embedded MongoDB (nx-27017) on %s for %s; it keeps running "
                "for later crawls (stop it with `twin mongo stop`)",
                socket_path,
                data_dir,
            )
            return uri
        time.sleep(0.1)
    _terminate(process.pid)
    raise EmbeddedMongoError(
        f"the embedded MongoDB server (nx-27017) did not answer within {START_TIMEOUT:.0f} s; "
        f"see {log_path}"
    )


def _socket_path(data_dir: Path) -> Path:
    """`<data_dir>/mongo.sock`, or, when that path is too long for a socket, one named
    after the data directory in a private directory of this user's under the temp dir."""
    path = data_dir / SOCKET_FILE
    if len(os.fsencode(path)) <= MAX_SOCKET_PATH:
        return path
    short = Path(tempfile.gettempdir()) / f"twin-{os.getuid()}"
    short.mkdir(mode=0o700, exist_ok=True)
    info = short.lstat()  # the temp dir is shared: never trust a directory someone else made
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise EmbeddedMongoError(
            f"the data directory's path is too long for a Unix socket and {short} is not a "
            "private directory of this user's (mode 0700): remove it, or use a shorter "
            "TWIN_DATA_DIR"
        )
    digest = hashlib.sha256(os.fsencode(data_dir)).hexdigest()[:16]
    return short / f"mongo-{digest}.sock"


def _uri(socket_path: str | Path) -> str:
    return f"mongodb://{quote(str(socket_path), safe='')}/"


def _ping(uri: str, attempts: int = 1) -> bool:
    client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=1500, connectTimeoutMS=1500)
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
    server = SERVER_MODULE in command or "nx_27017" in command  # or an earlier version's
    return server and str(data_dir / DB_DIR) in command


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


def _read_state(data_dir: Path) -> dict | None:
    try:
        state = json.loads((data_dir / STATE_FILE).read_text())
        if not isinstance(state.get("pid"), int):
            return None
        socket_path = state.get("socket")  # none: an earlier version's server, on TCP
        return {**state, "socket": socket_path if isinstance(socket_path, str) else None}
    except (OSError, ValueError, AttributeError):
        return None
