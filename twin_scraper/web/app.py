"""The dashboard: a Starlette application with server-rendered Jinja pages.

Pages read the stores through the same adapters as the `twin` command (`MongoStore`,
`Journal`, the `Indexer` for search) and work without JavaScript; with it, charts are
drawn (Chart.js, served from the package) and live parts of a page refresh themselves.
The sync scheduler runs inside the server process (one per data directory).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from markdown_it import MarkdownIt
from markupsafe import Markup
from scrapy.settings import BaseSettings
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import (
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Receive, Scope, Send

from twin_scraper.config import StoreConfig
from twin_scraper.extract.markdown import markdown_to_text
from twin_scraper.stores.embedder import ModelMissing
from twin_scraper.stores.journal import Journal
from twin_scraper.stores.mongo import MongoStore, StoreUnavailable
from twin_scraper.syncs import (
    PERIOD_EXAMPLES,
    RUNNERS,
    Sync,
    SyncError,
    SyncRunner,
    SyncScheduler,
    SyncStore,
    local_timezone,
    new_sync,
    scheduler_lock,
)
from twin_scraper.web import queries
from twin_scraper.web.search import Searcher

HERE = Path(__file__).parent
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "::1", "[::1]"]
#: Colours of crawl outcomes in charts.
OUTCOME_COLOURS = {
    "new": "#2e7d32",
    "updated": "#1565c0",
    "unchanged": "#9e9e9e",
    "skipped": "#f9a825",
    "failed": "#c62828",
    "duplicate": "#6a1b9a",
    "journaled": "#00838f",
}
MESSAGES = {
    "added": "Sync {sync} added.",
    "queued": "Sync {sync} will run now.",
    "paused": "Sync {sync} paused.",
    "resumed": "Sync {sync} resumed.",
    "removed": "Sync {sync} removed.",
}
#: Raw pages come from the web: shown without scripts, styles from elsewhere or forms.
RAW_PAGE_POLICY = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"
PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data: http: https:; style-src 'self'; "
    "frame-ancestors 'self'; form-action 'self'; base-uri 'none'; object-src 'none'"
)

markdown = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


@dataclass
class Dashboard:
    """What the pages read and drive, opened once for the server's life."""

    config: StoreConfig
    settings: BaseSettings
    mongo: MongoStore
    syncs: SyncStore
    runner: SyncRunner
    scheduler: SyncScheduler | None  # None: another server runs this data directory's syncs
    searcher: Searcher
    journal: Journal
    timezone: tzinfo


@contextlib.contextmanager
def open_dashboard(
    settings: BaseSettings, run_syncs: bool = True, child_env: dict[str, str] | None = None
) -> Iterator[Dashboard]:
    config = StoreConfig.from_settings(settings)
    mongo = config.open_mongo()
    with contextlib.ExitStack() as stack:
        stack.callback(mongo.close)
        store = SyncStore(mongo)
        runner = SyncRunner(store, config, settings, child_env)
        timezone = local_timezone(settings)
        scheduler = None
        if run_syncs and stack.enter_context(scheduler_lock(config.data_dir)):
            scheduler = SyncScheduler(store, runner, timezone)
            scheduler.start()
            stack.callback(scheduler.shutdown)
        yield Dashboard(
            config=config,
            settings=settings,
            mongo=mongo,
            syncs=store,
            runner=runner,
            scheduler=scheduler,
            searcher=Searcher(config),
            journal=Journal(config.data_dir),
            timezone=timezone,
        )


# --- access ---------------------------------------------------------------------------
class AccessMiddleware:
    """A token when one is set (HTTP basic auth with the token as password, or a bearer
    token), and no form posted from another site (a page elsewhere cannot make the
    browser run or remove a sync)."""

    def __init__(self, app: ASGIApp, token: str = "") -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        if self.token and not self._authorised(headers.get("authorization", "")):
            response: Response = PlainTextResponse(
                "This dashboard needs its token (TWIN_SERVE_TOKEN): give it as the password.",
                status_code=401,
                headers={"WWW-Authenticate": 'Basic realm="twin_scraper", charset="UTF-8"'},
            )
            await response(scope, receive, send)
            return
        if scope["method"] not in ("GET", "HEAD") and not _same_site(headers):
            await PlainTextResponse("Cross-site request refused.", status_code=403)(
                scope, receive, send
            )
            return
        await self.app(scope, receive, send)

    def _authorised(self, header: str) -> bool:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            return secrets.compare_digest(value.strip().encode(), self.token.encode())
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return False
            password = decoded.partition(":")[2]
            return secrets.compare_digest(password.encode(), self.token.encode())
        return False


def _same_site(headers: dict[str, str]) -> bool:
    origin = headers.get("origin")
    if origin and origin != "null":
        host = headers.get("host", "")
        return origin.split("://", 1)[-1] == host
    return headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                present = {k.lower() for k, _ in headers}
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", PAGE_POLICY.encode()))
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"referrer-policy", b"no-referrer"))
            await send(message)

        await self.app(scope, receive, send_with_headers)


# --- rendering ------------------------------------------------------------------------
def _filters(timezone: tzinfo) -> dict[str, Callable[..., Any]]:
    def when(value: datetime | None, seconds: bool = False) -> str:
        if not value:
            return "—"
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return f"{value.astimezone(timezone):%Y-%m-%d %H:%M{':%S' if seconds else ''} %Z}"

    def duration(seconds: float | None) -> str:
        if seconds is None:
            return "—"
        seconds = round(seconds)
        if seconds < 60:
            return f"{seconds} s"
        minutes, seconds = divmod(seconds, 60)
        if minutes < 60:
            return f"{minutes} min {seconds} s"
        hours, minutes = divmod(minutes, 60)
        return f"{hours} h {minutes} min"

    def num(value: int | float | None) -> str:
        return "—" if value is None else f"{value:,}"

    return {"when": when, "duration": duration, "num": num}


def _templates(timezone: tzinfo) -> Jinja2Templates:
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.filters.update(_filters(timezone))
    templates.env.globals["zone"] = str(timezone)
    return templates


def words_chart(summary: queries.CorpusSummary) -> dict[str, Any]:
    return {
        "type": "bar",
        "data": {
            "labels": [m for m, _, _ in summary.months],
            "datasets": [
                {
                    "label": "words",
                    "data": [w for _, _, w in summary.months],
                    "backgroundColor": "#1565c0",
                }
            ],
        },
        "options": {
            "plugins": {"legend": {"display": False}},
            "animation": False,
            "maintainAspectRatio": False,
        },
    }


def domain_chart(series: queries.DomainSeries) -> dict[str, Any]:
    datasets: list[dict[str, Any]] = [
        {
            "type": "bar",
            "label": outcome,
            "data": values,
            "backgroundColor": OUTCOME_COLOURS.get(outcome, "#607d8b"),
            "stack": "outcomes",
        }
        for outcome, values in series.outcomes.items()
    ]
    datasets.append(
        {
            "type": "line",
            "label": "attempted",
            "data": series.attempted,
            "borderColor": "#212121",
            "backgroundColor": "#212121",
        }
    )
    return {
        "type": "bar",
        "data": {"labels": series.runs, "datasets": datasets},
        "options": {
            "animation": False,
            "maintainAspectRatio": False,
            "scales": {"x": {"stacked": True}, "y": {"stacked": True, "beginAtZero": True}},
        },
    }


# --- the application ------------------------------------------------------------------
def create_app(
    settings: BaseSettings,
    token: str = "",
    allowed_hosts: list[str] | None = None,
    run_syncs: bool = True,
    child_env: dict[str, str] | None = None,
) -> Starlette:
    """The dashboard over the stores `settings` name. `allowed_hosts`: Host headers it
    answers (loopback names by default: another site's name resolving to 127.0.0.1 gets
    nothing)."""
    timezone = local_timezone(settings)
    templates = _templates(timezone)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        with contextlib.ExitStack() as stack:
            app.state.dashboard = await run_in_threadpool(
                stack.enter_context, open_dashboard(settings, run_syncs, child_env)
            )
            yield
            await run_in_threadpool(stack.close)

    def dash(request: Request) -> Dashboard:
        return request.app.state.dashboard

    def render(request: Request, name: str, status: int = 200, **context: Any) -> Response:
        d = dash(request)
        running = queries.running_crawls(d.mongo)
        syncs_busy = bool(d.runner.running() or (d.scheduler and d.scheduler.queued()))
        context.update(
            crawls=running,
            pending=d.mongo.count_to_embed(queries.MODEL_NAME),
            live=bool(running) or syncs_busy,
            section=context.get("section", name.split(".")[0]),
        )
        return templates.TemplateResponse(request, name, context, status_code=status)

    def corpus(request: Request) -> Response:
        d = dash(request)
        summary = queries.corpus_summary(d.mongo, d.journal)
        runs = queries.recent_runs(d.mongo, 1)
        return render(
            request,
            "corpus.html",
            summary=summary,
            chart=words_chart(summary),
            last_run=queries.run_row(runs[0]) if runs else None,
        )

    def documents(request: Request) -> Response:
        d = dash(request)
        params = request.query_params
        filters = {k: params.get(k) or None for k in ("author", "platform", "category")}
        page = max(1, _int(params.get("page"), 1))
        rows, total = queries.list_documents(d.mongo, offset=(page - 1) * 50, **filters)
        return render(
            request,
            "documents.html",
            section="corpus",
            rows=rows,
            total=total,
            page=page,
            pages=max(1, -(-total // 50)),
            filters={k: v for k, v in filters.items() if v},
            query=lambda **extra: urlencode({k: v for k, v in {**filters, **extra}.items() if v}),
        )

    def document(request: Request) -> Response:
        d = dash(request)
        record = queries.find_document(d.mongo, request.path_params["doc_id"])
        if record is None:
            raise HTTPException(404, "No such document.")
        raw = d.mongo.db.raw_pages.find_one({"doc_id": record["_id"]}, {"_id": 1})
        files = []
        if record.get("category") == "repositories":
            files = list(
                d.mongo.db.repository_files.find(
                    {"doc_id": record["_id"]}, {"path": 1, "language": 1, "kind": 1, "size": 1}
                ).sort("path", 1)
            )
        return render(
            request,
            "document.html",
            section="corpus",
            doc=record,
            body=Markup(markdown.render(record.get("content") or "")),
            has_raw=raw is not None,
            files=files,
            preview_only=queries.is_preview(record),
            embedded=queries.embedded(record),
        )

    def raw_page(request: Request) -> Response:
        d = dash(request)
        raw = d.mongo.raw_page(request.path_params["doc_id"])
        if raw is None:
            raise HTTPException(404, "No raw page is kept for this document.")
        if request.query_params.get("source"):
            return PlainTextResponse(raw["html"])
        return Response(
            raw["html"],
            media_type="text/html; charset=utf-8",
            headers={"Content-Security-Policy": RAW_PAGE_POLICY},
        )

    def repository_file(request: Request) -> Response:
        d = dash(request)
        record = d.mongo.db.repository_files.find_one(
            {"doc_id": request.path_params["doc_id"], "path": request.query_params.get("path")}
        )
        if record is None:
            raise HTTPException(404, "No such file in this repository.")
        return PlainTextResponse(record["content"])

    def health(request: Request) -> Response:
        d = dash(request)
        limit = min(500, max(1, _int(request.query_params.get("runs"), 50)))
        runs = queries.recent_runs(d.mongo, limit)
        series = queries.domain_series(runs)
        return render(
            request,
            "health.html",
            runs=[queries.run_row(r) for r in runs],
            series=series,
            charts=[domain_chart(s) for s in series],
            failures=queries.failures(runs, 200),
            reasons=queries.failure_reasons(runs),
            limit=limit,
        )

    def run_detail(request: Request) -> Response:
        d = dash(request)
        run = queries.find_run(d.mongo, request.path_params["run_id"])
        if run is None:
            raise HTTPException(404, "No such crawl run.")
        return render(
            request,
            "run.html",
            section="health",
            run=run,
            row=queries.run_row(run),
            failures=queries.failures([run]),
        )

    def search(request: Request) -> Response:
        d = dash(request)
        params = request.query_params
        q = (params.get("q") or "").strip()
        author, platform = params.get("author") or None, params.get("platform") or None
        k = min(50, max(1, _int(params.get("k"), 5)))
        results: list[dict[str, Any]] = []
        error = None
        if q:
            try:
                results = d.searcher.search(q, k, author, platform)
            except (StoreUnavailable, ModelMissing) as exc:
                error = str(exc)
        summary = queries.corpus_summary(d.mongo, top=0)
        for result in results:
            text = " ".join(markdown_to_text(result.get("text") or "").split())
            result["snippet"] = text[:320] + ("…" if len(text) > 320 else "")
        return render(
            request,
            "search.html",
            q=q,
            author=author,
            platform=platform,
            k=k,
            results=results,
            error=error,
            authors=[t.key for t in summary.by_author],
            platforms=[t.key for t in summary.by_platform],
        )

    def sync_rows(d: Dashboard) -> list[dict[str, Any]]:
        running = d.runner.running()
        queued = d.scheduler.queued() if d.scheduler else set()
        crawls = {p.sync_id: p for p in queries.running_crawls(d.mongo) if p.sync_id}
        rows = []
        for sync in d.syncs.all():
            if sync.name in running or sync.claimed():
                state = "running"
            elif sync.name in queued:
                state = "queued"
            else:
                state = "paused" if sync.paused else "active"
            crawl = d.syncs.last_crawl_run(sync.name)
            rows.append(
                {
                    "sync": sync,
                    "state": state,
                    "crawl": crawl,
                    "progress": crawls.get(sync.name),
                }
            )
        return rows

    def syncs_page(
        request: Request, error: str | None = None, form: dict[str, str] | None = None
    ) -> Response:
        d = dash(request)
        message = MESSAGES.get(request.query_params.get("done", ""))
        return render(
            request,
            "syncs.html",
            status=400 if error else 200,
            rows=sync_rows(d),
            scheduler=d.scheduler is not None,
            error=error,
            form=form or {"runner": d.settings.get("SYNC_RUNNER")},
            message=message.format(sync=request.query_params.get("sync", "")) if message else None,
            examples=PERIOD_EXAMPLES,
            runners=RUNNERS,
        )

    async def add_sync(request: Request) -> Response:
        d = dash(request)
        form = {k: str(v) for k, v in (await request.form()).items()}
        try:
            sync = new_sync(
                form.get("name", ""),
                form.get("source", ""),
                form.get("period", ""),
                d.timezone,
                author=form.get("author") or None,
                runner=form.get("runner") or d.settings.get("SYNC_RUNNER"),
            )
            await run_in_threadpool(d.syncs.add, sync)
        except SyncError as exc:
            return await run_in_threadpool(syncs_page, request, str(exc), form)
        if d.scheduler:
            await run_in_threadpool(d.scheduler.reconcile)
        return _back("added", sync.name)

    async def sync_action(request: Request) -> Response:
        d = dash(request)
        name, action = request.path_params["name"], request.path_params["action"]
        sync = await run_in_threadpool(d.syncs.get, name)
        if sync is None:
            raise HTTPException(404, "No such sync.")
        if action == "run":
            if d.scheduler is None:
                raise HTTPException(409, "Another `twin serve` runs this data directory's syncs.")
            await run_in_threadpool(d.scheduler.run_now, name)
            done = "queued"
        elif action in ("pause", "resume"):
            await run_in_threadpool(d.syncs.update, name, paused=action == "pause")
            done = "paused" if action == "pause" else "resumed"
        elif action == "remove":
            await run_in_threadpool(d.syncs.remove, name)
            done = "removed"
        else:
            raise HTTPException(404, "No such action.")
        if d.scheduler:
            await run_in_threadpool(d.scheduler.reconcile)
        return _back(done, name)

    def sync_log(request: Request) -> Response:
        d = dash(request)
        sync = d.syncs.get(request.path_params["name"])
        log = (sync.last_run or {}).get("log") if sync else None
        path = Path(log) if log else None
        if path is None or not path.is_file() or not path.is_relative_to(d.runner.logs):
            raise HTTPException(404, "No log kept for this sync's last run.")
        return PlainTextResponse(path.read_text(encoding="utf-8", errors="replace"))

    def progress_fragment(request: Request) -> Response:
        return render(request, "_progress.html")

    def api_stats(request: Request) -> Response:
        d = dash(request)
        return JSONResponse(queries.api_stats(d.mongo, d.journal))

    def api_progress(request: Request) -> Response:
        return JSONResponse(queries.progress(dash(request).mongo))

    def api_syncs(request: Request) -> Response:
        rows = sync_rows(dash(request))
        return JSONResponse(
            [
                _sync_json(row["sync"])
                | {
                    "state": row["state"],
                    "last_crawl_run": queries.run_brief(row["crawl"]) if row["crawl"] else None,
                }
                for row in rows
            ]
        )

    routes = [
        Route("/", corpus),
        Route("/documents", documents),
        Route("/documents/{doc_id}", document),
        Route("/documents/{doc_id}/raw", raw_page),
        Route("/documents/{doc_id}/file", repository_file),
        Route("/health", health),
        Route("/runs/{run_id}", run_detail),
        Route("/search", search),
        Route("/syncs", syncs_page, methods=["GET"]),
        Route("/syncs", add_sync, methods=["POST"]),
        Route("/syncs/{name}/log", sync_log),
        Route("/syncs/{name}/{action}", sync_action, methods=["POST"]),
        Route("/progress", progress_fragment),
        Route("/api/stats", api_stats),
        Route("/api/progress", api_progress),
        Route("/api/syncs", api_syncs),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(AccessMiddleware, token=token),
        Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts or LOOPBACK_HOSTS),
    ]
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)


def _back(done: str, sync: str) -> Response:
    return RedirectResponse(f"/syncs?{urlencode({'done': done, 'sync': sync})}", status_code=303)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value else default
    except ValueError:
        return default


def _sync_json(sync: Sync) -> dict[str, Any]:
    def iso(value: Any) -> Any:
        return value.isoformat() if isinstance(value, datetime) else value

    last = {k: iso(v) for k, v in (sync.last_run or {}).items()}
    return {
        "name": sync.name,
        "source": sync.source,
        "seed_file": sync.seed_file,
        "url": sync.url,
        "author": sync.author,
        "period": sync.period,
        "runner": sync.runner,
        "paused": sync.paused,
        "next_run_at": iso(sync.next_run_at),
        "last_run": last or None,
    }
