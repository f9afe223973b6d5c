"""A static site server on 127.0.0.1 for the demo, the tests and the benchmarks.

Serves a directory (`/a/b/` -> `a/b/index.html`), replaces `{{BASE}}` in text files by
its own origin, and lets a caller override any path with fixed content (to change a page
between two crawls, or add a huge one) or add latency.
"""

from __future__ import annotations

import mimetypes
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

SITE_DIR = Path(__file__).parent / "site"
TEXT_TYPES = (
    "text/",
    "application/xml",
    "application/rss+xml",
    "application/atom+xml",
    "application/json",
)
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
}


@dataclass
class Route:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()


class _IPv6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


class SiteServer:
    """`with SiteServer(path) as server: server.url("/posts/x/")`. `host` is the loopback
    address to listen on (127.0.0.1; another one such as 127.0.0.2 or ::1 for tests of
    the network guard)."""

    def __init__(
        self,
        root: str | Path = SITE_DIR,
        latency: float = 0.0,
        port: int = 0,
        host: str = "127.0.0.1",
    ) -> None:
        self.root = Path(root).resolve()
        self.latency = latency
        self.routes: dict[str, Route] = {}
        #: POST handlers by path: the request body in, the answer out (a JSON API).
        self.post_routes: dict[str, Callable[[bytes], Route]] = {}
        self.hits: dict[str, int] = {}
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server._handle(self)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                server._handle(self, self.rfile.read(length))

            def log_message(self, format: str, *args: object) -> None:
                pass

        server_class = _IPv6Server if ":" in host else ThreadingHTTPServer
        self._httpd = server_class((host, port), Handler)
        self._httpd.daemon_threads = True
        name = f"[{host}]" if ":" in host else host
        self.base = f"http://{name}:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def url(self, path: str = "/") -> str:
        return self.base + path

    def start(self) -> SiteServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> SiteServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _resolve(self, path: str) -> Route | None:
        if path in self.routes:
            return self.routes[path]
        file = (self.root / unquote(path).lstrip("/")).resolve()
        if not file.is_relative_to(self.root):
            return None
        if file.is_dir():
            file = file / "index.html"
        if not file.is_file():
            return None
        content_type = CONTENT_TYPES.get(file.suffix) or (
            mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        )
        body = file.read_bytes()
        if content_type.startswith(TEXT_TYPES):
            body = body.replace(b"{{BASE}}", self.base.encode())
        return Route(body, content_type)

    def _handle(self, handler: BaseHTTPRequestHandler, body: bytes | None = None) -> None:
        path = urlsplit(handler.path).path
        with self._lock:
            self.hits[path] = self.hits.get(path, 0) + 1
        if self.latency:
            time.sleep(self.latency)
        if body is not None:
            post = self.post_routes.get(path)
            route = post(body) if post else Route(b"Method not allowed", "text/plain", 405)
        else:
            route = self._resolve(path)
        if route is None:
            route = Route(
                b"<html><head><title>Not found</title></head><body>Not found</body></html>",
                status=404,
            )
        handler.send_response(route.status)
        handler.send_header("Content-Type", route.content_type)
        handler.send_header("Content-Length", str(len(route.body)))
        for name, value in route.headers:
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(route.body)
