"""`twin serve`: the dashboard on uvicorn, on 127.0.0.1 unless a token guards it."""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import uvicorn
from scrapy.settings import BaseSettings

from twin_scraper.config import StoreConfig
from twin_scraper.services.demo import DEMO_AUTHOR, DEMO_PORT
from twin_scraper.services.workspace import ServiceError, Workspace
from twin_scraper.stores.mongo import StoreUnavailable
from twin_scraper.syncs import SyncError, SyncStore, local_timezone, new_sync
from twin_scraper.web.app import LOOPBACK_HOSTS, create_app

logger = logging.getLogger(__name__)

DEMO_SYNC = "demo-blog"
DEMO_PERIOD = "every 5 minutes"
DEMO_ALLOW_PRIVATE = "127.0.0.1/32"


class ServeError(ServiceError):
    """The dashboard cannot start; the message says why and what to do."""


@dataclass(frozen=True)
class DemoSite:
    """`twin serve --demo`: serve the sample blog again (where `twin demo` crawled it), so
    the demo corpus's sync has a site to crawl."""

    port: int = DEMO_PORT
    author: str = DEMO_AUTHOR


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str) -> None:
    """Anything but the loopback address needs a token: the dashboard runs crawls."""
    if not is_loopback(host) and not token:
        raise ServeError(
            f"binding {host} makes the dashboard (which starts crawls) reachable from other "
            "machines: set TWIN_SERVE_TOKEN first, for example export TWIN_SERVE_TOKEN="
            "\"$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')\", and put TLS "
            "in front (the token travels in plain HTTP)"
        )


def check_port(host: str, port: int) -> None:
    """Fail before starting anything (the demo's site, its sync) when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host.strip("[]"), port))
        except OSError as exc:
            raise ServeError(
                f"cannot listen on {host}:{port} ({exc.strerror}): is another `twin serve` "
                "running? Give another --port"
            ) from None


def allowed_hosts(host: str, token: str) -> list[str]:
    """Host headers answered: loopback names when bound there without a token (a site
    elsewhere whose name resolves to 127.0.0.1 gets nothing), any once a token guards it."""
    if token:
        return ["*"]
    return sorted({*LOOPBACK_HOSTS, host})


def demo_workspace(ws: Workspace) -> Workspace:
    """`twin demo`'s data directory (DATA/demo), with the rest of `ws`'s settings."""
    return Workspace({**ws.overrides, "TWIN_DATA_DIR": str(ws.data_dir / "demo")})


def serve(
    ws: Workspace,
    host: str | None = None,
    port: int | None = None,
    demo: DemoSite | None = None,
) -> None:
    """Run the dashboard (and the syncs) until interrupted; `demo`: over `twin demo`'s
    corpus, with its sample blog served again."""
    if demo is not None:
        ws = demo_workspace(ws)
        if ws.embedded_mongo and not ws.has_embedded_data():
            raise ServeError(f"no demo corpus in {ws.data_dir} yet: run `twin demo` first")
    settings = ws.settings()
    host = host or settings.get("SERVE_HOST")
    port = port or settings.getint("SERVE_PORT")
    token = settings.get("SERVE_TOKEN") or ""
    check_bind(host, token)
    check_port(host, port)
    config = ws.config
    try:  # a clear message now rather than a traceback from the server's start-up
        config.open_mongo().close()
    except StoreUnavailable as exc:
        raise ServeError(str(exc)) from None
    child_env: dict[str, str] = {}
    with contextlib.ExitStack() as stack:
        if demo is not None:
            stack.enter_context(_demo_site(settings, config, demo))
            # The demo's crawls fetch the sample blog on 127.0.0.1, and nothing else private.
            child_env["TWIN_ALLOW_PRIVATE"] = DEMO_ALLOW_PRIVATE
        app = create_app(
            settings, token=token, allowed_hosts=allowed_hosts(host, token), child_env=child_env
        )
        where = f"[{host}]" if ":" in host else host
        print(f"Dashboard for {config.data_dir} at http://{where}:{port}/ (Ctrl-C stops it)")
        server = uvicorn.Server(
            uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
        )
        server.run()
        if not server.started:
            raise ServeError(f"the dashboard could not listen on {where}:{port}; see above")


@contextlib.contextmanager
def _demo_site(settings: BaseSettings, config: StoreConfig, demo: DemoSite) -> Iterator[None]:
    from twin_scraper.demo.server import SiteServer

    port = _demo_port(config) or demo.port
    try:
        site = SiteServer(port=port).start()
    except OSError:
        site = SiteServer().start()
        print(
            f"Port {port} is busy: the sample blog is served at {site.base}/ instead, where "
            "its pages are new documents to the demo corpus"
        )
    try:
        _add_demo_sync(settings, config, site.url("/"), demo.author)
        print(f"Serving the sample blog at {site.base}/ (sync {DEMO_SYNC}: {DEMO_PERIOD})")
        yield
    finally:
        site.stop()


def _demo_port(config: StoreConfig) -> int | None:
    """The port `twin demo` served the blog on (it takes another when 8765 is busy): the
    stored pages' URLs carry it, and serving it elsewhere would make them new pages."""
    try:
        mongo = config.open_mongo()
    except StoreUnavailable as exc:
        raise ServeError(str(exc)) from None
    try:
        runs = mongo.db.crawl_runs.find({"arguments.site": {"$exists": True}}).sort("started_at", 1)
        site = next((r["arguments"]["site"] for r in runs.limit(1)), None)
    finally:
        mongo.close()
    parts = urlsplit(site or "")
    return parts.port if parts.hostname == "127.0.0.1" else None


def _add_demo_sync(settings: BaseSettings, config: StoreConfig, url: str, author: str) -> None:
    try:
        mongo = config.open_mongo()
    except StoreUnavailable as exc:
        raise ServeError(str(exc)) from None
    try:
        store = SyncStore(mongo)
        existing = store.get(DEMO_SYNC)
        if existing is not None:
            if existing.url != url:
                store.update(DEMO_SYNC, url=url)
            return
        store.add(new_sync(DEMO_SYNC, url, DEMO_PERIOD, local_timezone(settings), author))
    except SyncError as exc:
        raise ServeError(str(exc)) from None
    finally:
        mongo.close()
