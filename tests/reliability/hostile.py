"""A server of hostile pages on 127.0.0.1: what people who never expected a crawler
serve. Each path is one fault; `HOSTILE` says what the crawl report must give for it."""

from __future__ import annotations

import os
import threading
import time
import zlib
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.reliability.helpers import article_html

MB = 1024 * 1024
CHUNK = b"<p>" + b"filler " * 9000 + b"</p>\n"  # about 63 KB


def _gzip_bomb(size: int) -> bytes:
    """`size` bytes of zeros, gzip-compressed (about 1,000 to 1)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"\0" * MB
    parts = [compressor.compress(block) for _ in range(size // MB)]
    return b"".join(parts) + compressor.flush()


def _entity_bomb(root: str, body: str) -> bytes:
    """Billion laughs: ten levels of ten references, 10^10 characters once expanded."""
    entities = '<!ENTITY e0 "lollollollol">' + "".join(
        f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, 11)
    )
    return f'<?xml version="1.0"?><!DOCTYPE {root} [{entities}]>{body}'.encode()


class HostileServer:
    """`with HostileServer() as server: server.url("/gzip-bomb/")`; `server.hits` counts
    requests per path, `server.times` their arrival times."""

    def __init__(self) -> None:
        self.hits: dict[str, int] = {}
        self.times: dict[str, list[float]] = {}
        self.gzip_bomb = _gzip_bomb(200 * MB)
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                server.hits[path] = server.hits.get(path, 0) + 1
                server.times.setdefault(path, []).append(time.monotonic())
                page = server.pages().get(path)
                try:
                    if page is None:
                        self.answer(404, b"<html><title>Not found</title></html>")
                    else:
                        page(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the crawler hung up on purpose: that is the point

            def answer(
                self,
                status: int,
                body: bytes,
                content_type: str = "text/html; charset=utf-8",
                headers: tuple[tuple[str, str], ...] = (),
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return self.base + path

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # --- the pages ------------------------------------------------------------------
    def pages(self) -> dict[str, Callable[[Any], None]]:
        def article(path: str, n: int) -> bytes:
            return article_html(n, self.base).replace(f"/notes/{n}/".encode(), path.encode())

        return {
            "/huge-declared/": self.huge_declared,
            "/huge-streamed/": self.huge_streamed,
            "/gzip-bomb/": lambda h: h.answer(
                200, self.gzip_bomb, headers=(("Content-Encoding", "gzip"),)
            ),
            "/deep/": lambda h: h.answer(
                200,
                b"<html><head><title>Deep</title></head><body>"
                + b"<div>" * 100_000
                + b"<p>"
                + b"deep words " * 60
                + b"</p>"
                + b"</div>" * 100_000
                + b"</body></html>",
            ),
            # Says UTF-8, is Windows-1252: decoded by what the bytes are.
            "/mislabelled/": lambda h: h.answer(
                200,
                article("/mislabelled/", 3).replace(b"Essay 3", "Café Essay 3".encode("cp1252")),
            ),
            # Invalid UTF-8 and an unknown charset label.
            "/invalid-encoding/": lambda h: h.answer(
                200,
                article("/invalid-encoding/", 4).replace(b"Essay 4", b"Essay \xff\xfe\xc3(\xa0 4"),
                "text/html; charset=x-no-such-charset",
            ),
            "/nul-bytes/": lambda h: h.answer(
                200,
                article("/nul-bytes/", 5)
                .replace(b"Essay 5", b"Es\0say\0 5")
                .replace(b"<p>", b"<p>\0"),
            ),
            "/binary/": lambda h: h.answer(200, os.urandom(256 * 1024)),
            "/million-links/": lambda h: h.answer(
                200,
                b"<html><head><title>Links</title></head><body><p>"
                + b"<a href=#>" * 1_000_000  # 10 MB: just under the default size cap
                + b"</p></body></html>",
            ),
            "/loop-a/": lambda h: h.answer(302, b"", headers=(("Location", "/loop-b/"),)),
            "/loop-b/": lambda h: h.answer(302, b"", headers=(("Location", "/loop-a/"),)),
            "/trickle/": self.trickle,
            "/rate-limited/": self.rate_limited,
            "/always-503/": lambda h: h.answer(
                503, b"<html><title>Busy</title></html>", headers=(("Retry-After", "1"),)
            ),
            "/retry-tomorrow/": lambda h: h.answer(
                429, b"<html><title>Slow down</title></html>", headers=(("Retry-After", "86400"),)
            ),
            # Discovery: a blog whose feed is an entity bomb and whose sitemap index lists
            # itself (and a urlset that is an entity bomb too).
            "/blog/": lambda h: h.answer(
                200,
                b'<html><head><title>Blog</title><link rel="alternate" '
                b'type="application/rss+xml" href="/blog/feed.xml"></head><body></body></html>',
            ),
            "/blog/feed.xml": lambda h: h.answer(
                200,
                _entity_bomb(
                    "rss",
                    '<rss version="2.0"><channel><title>&e10;</title><item><title>&e10;</title>'
                    f"<link>{self.base}/blog/&e10;</link></item></channel></rss>",
                ),
                "application/rss+xml",
            ),
            "/robots.txt": lambda h: h.answer(
                200,
                f"User-agent: *\nAllow: /\nSitemap: {self.base}/blog/sitemap.xml\n".encode(),
                "text/plain",
            ),
            "/blog/sitemap.xml": lambda h: h.answer(
                200,
                (
                    '<?xml version="1.0"?><sitemapindex '
                    'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                    f"<sitemap><loc>{self.base}/blog/sitemap.xml</loc></sitemap>"
                    f"<sitemap><loc>{self.base}/blog/sitemap-bomb.xml</loc></sitemap>"
                    "</sitemapindex>"
                ).encode(),
                "application/xml",
            ),
            "/blog/sitemap-bomb.xml": lambda h: h.answer(
                200,
                _entity_bomb(
                    "urlset",
                    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                    f"<url><loc>{self.base}/blog/&e10;</loc></url></urlset>",
                ),
                "application/xml",
            ),
        }

    def huge_declared(self, handler: Any) -> None:
        """Announces 200 MB, then sends until the crawler hangs up."""
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(200 * MB))
        handler.end_headers()
        for _ in range(200 * MB // len(CHUNK)):
            handler.wfile.write(CHUNK)

    def huge_streamed(self, handler: Any) -> None:
        """No length given: 200 MB streamed until the crawler hangs up."""
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.close_connection = True
        for _ in range(200 * MB // len(CHUNK)):
            handler.wfile.write(CHUNK)

    def trickle(self, handler: Any) -> None:
        """A byte every 0.2 s, for a minute: each read succeeds, the page never ends."""
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", "100000")
        handler.end_headers()
        for _ in range(300):
            handler.wfile.write(b"<")
            handler.wfile.flush()
            time.sleep(0.2)

    def rate_limited(self, handler: Any) -> None:
        """429 with Retry-After: 1 the first time, then the article."""
        if self.hits["/rate-limited/"] == 1:
            handler.answer(
                429, b"<html><title>Too many</title></html>", headers=(("Retry-After", "1"),)
            )
        else:
            page = article_html(2, self.base).replace(b"/notes/2/", b"/rate-limited/")
            handler.answer(200, page)
