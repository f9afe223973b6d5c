"""Test servers for the GitHub spider, on 127.0.0.1: real git repositories served over
smart HTTP (`git http-backend` as CGI) and a mock of GitHub's REST API with pagination and
rate-limit answers."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Ada Quill",
    "GIT_AUTHOR_EMAIL": "ada@example.invalid",
    "GIT_COMMITTER_NAME": "Ada Quill",
    "GIT_COMMITTER_EMAIL": "ada@example.invalid",
}


def git(*args: str, cwd: Path | None = None) -> str:
    env = {**os.environ, **GIT_IDENTITY, "GIT_CONFIG_GLOBAL": os.devnull}
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    ).stdout


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away (a killed clone) is expected here, not news."""


@dataclass
class Served:
    """A repository served by GitServer: its work tree (to commit more) and bare copy."""

    work: Path
    bare: Path

    def commit(
        self,
        files: dict[str, bytes | str] | None = None,
        delete: tuple[str, ...] = (),
        symlinks: dict[str, str] | None = None,
        force: tuple[str, ...] = (),
        executable: tuple[str, ...] = (),
        message: str = "change",
    ) -> str:
        """Write files (and symlinks), commit, push to the served bare repository."""
        for path, content in (files or {}).items():
            target = self.work / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        for path in executable:
            (self.work / path).chmod(0o755)
        for path, link_to in (symlinks or {}).items():
            target = self.work / path
            target.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(link_to, target)
        for path in delete:
            git("rm", "-q", "--", path, cwd=self.work)
        git("add", "-A", cwd=self.work)
        if force:
            git("add", "-f", "--", *force, cwd=self.work)
        git("commit", "-q", "-m", message, cwd=self.work)
        git("push", "-q", str(self.bare), "HEAD:main", cwd=self.work)
        return git("rev-parse", "HEAD", cwd=self.work).strip()


@dataclass
class GitServer:
    """`git http-backend` over every bare repository under `root`, on 127.0.0.1 (or
    another loopback address, `host`)."""

    root: Path
    requests: list[dict[str, Any]] = field(default_factory=list)
    # Seconds before answering a fetch of a repository (by OWNER/NAME): a stalled server.
    fetch_delay: dict[str, float] = field(default_factory=dict)
    host: str = "127.0.0.1"

    def __post_init__(self) -> None:
        server = self
        self._lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server._cgi(self)

            def do_POST(self) -> None:
                server._cgi(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._httpd = QuietServer((self.host, 0), Handler)
        self.base = f"http://{self.host}:{self._httpd.server_address[1]}"
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def create(self, full_name: str) -> Served:
        work = self.root / "work" / full_name
        bare = self.root / "bare" / f"{full_name}.git"
        work.mkdir(parents=True)
        git("init", "-q", "-b", "main", str(work))
        git("init", "-q", "--bare", "-b", "main", str(bare))
        return Served(work, bare)

    def fetches(self, full_name: str) -> int:
        """Clones served for a repository: upload-pack requests that fetch objects (an
        ls-remote only lists refs)."""
        with self._lock:
            return sum(
                1
                for r in self.requests
                if r["path"] == f"/{full_name}.git/git-upload-pack"
                and (b"command=fetch" in r["body"] or b"want " in r["body"])
            )

    def _cgi(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        plain = gzip.decompress(body) if handler.headers.get("Content-Encoding") == "gzip" else body
        with self._lock:
            self.requests.append(
                {"method": handler.command, "path": parts.path, "body": plain,
                 "headers": dict(handler.headers)}
            )  # fmt: skip
        delay = self.fetch_delay.get(parts.path.removeprefix("/").split(".git/")[0], 0)
        if delay and (b"command=fetch" in plain or b"want " in plain):
            time.sleep(delay)
        env = {
            "PATH": os.environ["PATH"],
            "GIT_PROJECT_ROOT": str(self.root / "bare"),
            "GIT_HTTP_EXPORT_ALL": "1",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "PATH_INFO": unquote(parts.path),
            "QUERY_STRING": parts.query,
            "REQUEST_METHOD": handler.command,
            "CONTENT_TYPE": handler.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_CONTENT_ENCODING": handler.headers.get("Content-Encoding", ""),
            "GIT_PROTOCOL": handler.headers.get("Git-Protocol", ""),
            "REMOTE_ADDR": "127.0.0.1",
        }
        out = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True)
        head, _, payload = out.stdout.partition(b"\r\n\r\n")
        status, headers = 200, []
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers.append((name, value.strip()))
        handler.send_response(status)
        for name, value in headers:
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)


Answer = tuple[int, dict[str, str], Any]


class MockGitHub:
    """GitHub's REST API as far as the spider uses it. `routes[path]` is a list of
    answers (status, headers, JSON) served in turn, the last one repeating, or a function
    of the request's query string giving one."""

    def __init__(self) -> None:
        self.routes: dict[str, list[Answer] | Callable[[str], Answer]] = {}
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server._answer(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._httpd = QuietServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def hits(self, path: str) -> int:
        with self._lock:
            return sum(1 for r in self.requests if r["path"] == path)

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        with self._lock:
            self.requests.append(
                {"path": parts.path, "query": parts.query, "headers": dict(handler.headers)}
            )
            route = self.routes.get(parts.path)
            if route is None:
                answer: Answer = (404, {}, {"message": "Not Found"})
            elif not callable(route):
                answer = route.pop(0) if len(route) > 1 else route[0]
        if callable(route):
            answer = route(parts.query)
        status, headers, payload = answer
        body = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)
