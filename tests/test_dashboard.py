"""`twin serve` end to end: the real command serves a corpus crawled from the demo site in
the test, and Debian's Chromium (Playwright) reads it, follows links, searches, and adds a
sync that then runs by itself; the server restarts and keeps it. Every page is
screenshotted and checked not to be blank."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageStat

from tests.test_cli import REPO, environment, run
from twin_scraper.config import project_settings
from twin_scraper.demo.server import SiteServer
from twin_scraper.services.demo import DEMO_AUTHOR, DEMO_QUERY
from twin_scraper.stores.embedded_mongo import stop_server
from twin_scraper.stores.embedder import MODEL_NAME
from twin_scraper.stores.mongo import MongoStore
from twin_scraper.syncs import SyncStore

#: Debian's Chromium, launched as crawls launch it (TWIN_CHROMIUM, --no-sandbox, ...).
CHROMIUM = project_settings().getdict("PLAYWRIGHT_LAUNCH_OPTIONS")
SOURDOUGH = "Baking Sourdough Bread at Home, From Starter to Loaf"
#: Generous: a sync's first run comes after its period, and a crawl shares 2 cores.
SYNC_WAIT_MS = 240_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def dashboard(
    env: dict[str, str], log: Path, host: str = "127.0.0.1", port: int | None = None
) -> Iterator[str]:
    """`twin serve` as a real process; yields its base URL once it answers, then stops it
    as Ctrl-C would (SIGINT), so its shutdown path runs too."""
    port = port or free_port()
    with open(log, "a") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "twin_scraper.cli",
                "serve",
                "--host",
                host,
                "--port",
                str(port),
            ],
            cwd=REPO,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://{host}:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, f"twin serve exited: {log.read_text()[-3000:]}"
            try:
                with socket.create_connection((host, port), timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, f"twin serve never listened: {log.read_text()}"
                time.sleep(0.3)
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise AssertionError(
                f"twin serve did not stop on SIGINT: {log.read_text()[-3000:]}"
            ) from None


def get(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class Browser:
    """Chromium through Playwright's sync API, on a thread of its own: the tests' thread
    runs Twisted's asyncio reactor, where the sync API refuses to work."""

    def __init__(self) -> None:
        self._thread = ThreadPoolExecutor(1)
        self.call(self._start)

    def _start(self) -> None:
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(**CHROMIUM)
        self.page = self._browser.new_page(viewport={"width": 1280, "height": 900})
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def call(self, function: Callable[..., Any], *args: Any) -> Any:
        return self._thread.submit(function, *args).result(timeout=600)

    def run(self, step: Callable[..., Any], *args: Any) -> Any:
        """Run a step, given the page, on the browser's thread."""
        return self.call(step, self.page, *args)

    def close(self) -> None:
        def stop() -> None:
            self._browser.close()
            self._playwright.stop()

        self.call(stop)
        self._thread.shutdown()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    browser = Browser()
    yield browser
    browser.close()


def assert_not_blank(path: Path) -> None:
    """A page (or a chart) that drew something: its pixels vary, and a fair share of them
    differ from the background."""
    image = Image.open(path).convert("L")
    assert ImageStat.Stat(image).stddev[0] > 8, f"{path.name} looks blank"
    histogram = image.histogram()
    background = max(histogram)
    assert 1 - background / sum(histogram) > 0.01, f"{path.name} is almost one colour"


def shoot(page: Any, directory: Path, name: str) -> Path:
    path = directory / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert_not_blank(path)
    return path


def text(page: Any, selector: str) -> str:
    return page.locator(selector).first.inner_text().strip()


def test_dashboard_shows_searches_and_syncs_the_corpus(
    demo_site: SiteServer,
    settings: dict,
    mongo: MongoStore,
    browser: Browser,
    tmp_path: Path,
) -> None:
    env = environment(settings) | {"TWIN_ALLOW_PRIVATE": "127.0.0.1/32"}
    crawl = run(
        [
            "scrapy",
            "crawl",
            "article",
            "-a",
            f"site={demo_site.url('/')}",
            "-a",
            f"author={DEMO_AUTHOR}",
        ],
        env,
    )
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    total = sum(mongo.count_documents().values())
    assert total == 7
    shots = tmp_path / "screenshots"
    shots.mkdir()
    log = tmp_path / "serve.log"

    with dashboard(env, log) as base:
        # --- the JSON API: the same counts as MongoDB ------------------------------------
        status, body = get(f"{base}/api/stats")
        assert status == 200
        stats = json.loads(body)
        assert stats["documents"]["total"] == total
        assert stats["documents"]["by_platform"] == {
            "article": mongo.db.articles.count_documents({"platform": "article"})
        }
        assert stats["documents"]["by_category"]["articles"] == mongo.count_documents()["articles"]
        assert stats["pending_embeddings"] == mongo.count_to_embed(MODEL_NAME) == 0
        (last_run,) = mongo.latest_runs(1)
        assert stats["last_crawl_run"]["id"] == last_run["_id"]
        assert stats["last_crawl_run"]["finish_reason"] == "finished"

        # --- Corpus ----------------------------------------------------------------------
        def corpus_page(page: Any) -> str:
            page.goto(f"{base}/")
            assert text(page, "[data-testid=total-documents]") == str(total)
            words = sum(d["word_count"] for d in mongo.iter_documents())
            assert text(page, "[data-testid=total-words]") == f"{words:,}"
            chunks = sum(d["embed"]["chunks"] for d in mongo.iter_documents())
            assert text(page, "[data-testid=total-chunks]") == f"{chunks:,}"
            assert text(page, "[data-testid=pending-embedding]") == "0"
            row = page.locator("[data-testid=by-author] tr[data-key='Ada Quill']")
            assert row.locator("[data-testid=author-documents]").inner_text() == str(total)
            assert "article · finished" in text(page, "[data-testid=last-run]")
            page.wait_for_function("document.querySelector('#words-chart').dataset.drawn")
            page.locator("#words-chart").screenshot(path=str(shots / "words-chart.png"))
            assert_not_blank(shots / "words-chart.png")
            shoot(page, shots, "corpus")
            newest = page.locator("[data-testid=newest] a.doc-link").first
            title = newest.inner_text()
            newest.click()
            page.wait_for_url("**/documents/*")
            return title

        title = browser.run(corpus_page)

        # --- a document: rendered Markdown, provenance, the raw page beside it ----------
        def document_page(page: Any) -> None:
            doc_id = page.url.rsplit("/", 1)[-1]
            record = next(d for d in mongo.iter_documents() if d["_id"] == doc_id)
            assert text(page, "[data-testid=doc-title]") == record["title"] == title
            first_heading = next(
                line[3:] for line in record["content"].splitlines() if line.startswith("## ")
            )
            assert page.locator("[data-testid=doc-body] h2").first.inner_text() == first_heading
            provenance = text(page, "[data-testid=provenance]")
            assert record["canonical_url"] in provenance
            assert f"{record['extractor']} {record['extractor_version']}" in provenance
            raw = page.frame_locator("[data-testid=raw-page]")
            assert raw.locator("h1").first.inner_text().strip() == record["title"]
            shoot(page, shots, "document")

        browser.run(document_page)

        # --- Crawl health ---------------------------------------------------------------
        def health_page(page: Any) -> None:
            page.goto(f"{base}/health")
            rows = page.locator("[data-testid=runs] tbody tr")
            assert rows.count() == 1
            assert "article" in rows.first.inner_text() and "finished" in rows.first.inner_text()
            page.wait_for_function("document.querySelector('#domain-chart-1').dataset.drawn")
            page.locator("#domain-chart-1").screenshot(path=str(shots / "domain-chart.png"))
            assert_not_blank(shots / "domain-chart.png")
            shoot(page, shots, "health")

        browser.run(health_page)

        # --- Search: the query of `twin demo`, then its first hit ----------------------
        def search_page(page: Any) -> None:
            page.goto(f"{base}/search")
            page.fill("input[name=q]", DEMO_QUERY)
            page.select_option("select[name=platform]", "article")
            page.press("input[name=q]", "Enter")
            page.wait_for_selector("[data-testid=results] li")
            first = page.locator("[data-testid=results] a.result-title").first
            assert first.inner_text() == SOURDOUGH
            shoot(page, shots, "search")
            first.click()
            page.wait_for_url("**/documents/*")
            assert text(page, "[data-testid=doc-title]") == SOURDOUGH

        browser.run(search_page)

        # --- Syncs: add one with a short period, see it run by itself, pause it ---------
        def add_sync(page: Any) -> None:
            page.goto(f"{base}/syncs")
            page.fill("input[name=name]", "demo-sync")
            page.fill("input[name=source]", demo_site.url("/"))
            page.fill("input[name=author]", DEMO_AUTHOR)
            page.fill("input[name=period]", "every 20 seconds")
            page.click("form.add-sync button[type=submit]")
            page.wait_for_selector("text=Sync demo-sync added.")
            row = page.locator("tr[data-sync=demo-sync]")
            assert row.locator("[data-testid=sync-state]").inner_text() == "active"
            assert row.locator("[data-testid=sync-next]").inner_text() not in ("", "—")
            # The page refreshes itself: wait for the run to show up, finished.
            page.wait_for_selector(
                "tr[data-sync=demo-sync] [data-testid=sync-last] .tag.good", timeout=SYNC_WAIT_MS
            )
            assert "finished" in row.locator("[data-testid=sync-last]").inner_text()
            row.locator("button:has-text('Pause')").click()
            page.wait_for_selector("text=Sync demo-sync paused.")
            assert row.locator("[data-testid=sync-state]").inner_text() in ("paused", "running")
            shoot(page, shots, "syncs")

        browser.run(add_sync)
        runs = list(mongo.db.crawl_runs.find({"sync_id": "demo-sync"}))
        assert runs and runs[0]["finish_reason"] == "finished" and runs[0]["spider"] == "seeds"
        assert SyncStore(mongo).require("demo-sync").paused is True
        assert sum(mongo.count_documents().values()) == total  # the re-crawl found no new page

        def sync_in_health(page: Any) -> None:
            page.goto(f"{base}/health")
            assert page.locator("[data-testid=run-sync]").first.inner_text() == "demo-sync"
            shoot(page, shots, "health-after-sync")

        browser.run(sync_in_health)

    # --- a restart keeps the sync, paused, with its last run ----------------------------
    with dashboard(env, log) as base:
        status, body = get(f"{base}/api/syncs")
        (sync,) = json.loads(body)
        assert sync["name"] == "demo-sync" and sync["paused"] and sync["state"] == "paused"
        assert sync["last_crawl_run"]["finish_reason"] in ("finished", "shutdown")

        def syncs_after_restart(page: Any) -> None:
            page.goto(f"{base}/syncs")
            row = page.locator("tr[data-sync=demo-sync]")
            assert row.locator("[data-testid=sync-state]").inner_text() == "paused"
            assert row.locator("[data-testid=sync-next]").inner_text() == "—"
            assert row.locator("[data-testid=sync-last] a").count() >= 1
            shoot(page, shots, "syncs-after-restart")

        browser.run(syncs_after_restart)
    assert not browser.errors, browser.errors


def test_pages_work_without_javascript(settings: dict, mongo: MongoStore, tmp_path: Path) -> None:
    """No script runs: pages still answer with their tables, forms post and redirect."""
    env = environment(settings)
    with dashboard(env, tmp_path / "serve.log") as base:
        for path in ("/", "/health", "/search?q=bread", "/syncs", "/documents"):
            status, body = get(base + path)
            assert status == 200, (path, body[:500])
            assert b"<table" in body or b"results" in body
        status, body = get(f"{base}/documents/no-such-id")
        assert status == 404
        # A form posted without JavaScript: the error is shown with the form kept.
        form = b"name=Bad+Name&source=https%3A%2F%2Fada.example%2F&period=every+day&runner=local"
        request = urllib.request.Request(
            f"{base}/syncs",
            data=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            method="POST",
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 400
        page = refused.value.read().decode()
        assert "sync name &#39;Bad Name&#39;" in page and 'value="https://ada.example/"' in page


def test_binding_beyond_loopback_needs_a_token(
    settings: dict, mongo: MongoStore, tmp_path: Path
) -> None:
    env = environment(settings) | {"TWIN_SERVE_TOKEN": ""}
    refused = subprocess.run(
        [sys.executable, "-m", "twin_scraper.cli", "serve", "--host", "0.0.0.0"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 1
    assert "TWIN_SERVE_TOKEN" in refused.stderr and "0.0.0.0" in refused.stderr

    token = "s3cret-token"
    with dashboard(env | {"TWIN_SERVE_TOKEN": token}, tmp_path / "serve.log", "127.0.0.2") as base:
        status, _ = get(f"{base}/api/stats")
        assert status == 401
        basic = base64.b64encode(f"anyone:{token}".encode()).decode()
        status, body = get(f"{base}/api/stats", {"Authorization": f"Basic {basic}"})
        assert status == 200 and "documents" in json.loads(body)
        status, _ = get(f"{base}/api/stats", {"Authorization": f"Bearer {token}"})
        assert status == 200
        wrong = base64.b64encode(b"anyone:guess").decode()
        assert get(f"{base}/", {"Authorization": f"Basic {wrong}"})[0] == 401


def test_other_sites_cannot_drive_the_dashboard(
    settings: dict, mongo: MongoStore, tmp_path: Path
) -> None:
    """On 127.0.0.1 without a token: a page elsewhere cannot post to it, and a host name
    that merely resolves to 127.0.0.1 (DNS rebinding) gets nothing."""
    env = environment(settings)
    with dashboard(env, tmp_path / "serve.log") as base:
        assert get(f"{base}/api/stats", {"Host": "attacker.example"})[0] == 400
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        status, _ = get(
            f"{base}/syncs/any/run", form | {"Origin": "http://attacker.example"}, "POST"
        )
        assert status == 403
        status, _ = get(f"{base}/syncs/any/run", form | {"Sec-Fetch-Site": "cross-site"}, "POST")
        assert status == 403
        # The same post from the dashboard's own pages goes through (to a missing sync).
        origin = {"Origin": base}
        assert get(f"{base}/syncs/any/run", form | origin, "POST")[0] == 404


def test_serve_demo_after_the_readme_demo(model_dir: Path, tmp_path: Path) -> None:
    """The README's flow: `twin demo`, then `twin serve --demo` shows that corpus and its
    crawl run, searches it, and syncs the sample blog (served again where it was crawled)."""
    env = {
        **os.environ,
        "TWIN_DATA_DIR": str(tmp_path / "data"),
        "TWIN_MODEL_DIR": str(model_dir),
        "TWIN_MODEL_AUTO_FETCH": "false",
        "MONGODB_URI": "",
        "QDRANT_URL": "",
    }
    for name in ("TWIN_MONGO_DATABASE", "TWIN_QDRANT_PATH", "TWIN_SERVE_TOKEN"):
        env.pop(name, None)
    demo = run(["twin_scraper.cli", "demo"], env)
    assert demo.returncode == 0, demo.stderr[-3000:]
    port = free_port()
    log = tmp_path / "serve.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "twin_scraper.cli", "serve", "--demo", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=open(log, "w"),  # noqa: SIM115 (closed with the process)
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while get_or_none(f"{base}/api/stats") is None:
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        stats = json.loads(get(f"{base}/api/stats")[1])
        assert stats["documents"]["total"] == 7 and stats["pending_embeddings"] == 0
        assert stats["last_crawl_run"]["spider"] == "article"
        assert stats["last_crawl_run"]["finish_reason"] == "finished"
        status, page = get(f"{base}/search?q={urllib.parse.quote(DEMO_QUERY)}")
        assert status == 200 and SOURDOUGH.encode() in page
        (sync,) = json.loads(get(f"{base}/api/syncs")[1])
        assert sync["name"] == "demo-blog" and sync["period"] == "every 5 minutes"
        assert sync["next_run_at"] and sync["state"] == "active"
        form = {"Content-Type": "application/x-www-form-urlencoded", "Origin": base}
        assert get(f"{base}/syncs/demo-blog/run", form, "POST")[0] == 200  # after a redirect
        deadline = time.monotonic() + 180
        while not (last := json.loads(get(f"{base}/api/syncs")[1])[0]["last_crawl_run"]):
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(1)
        # The blog is served where `twin demo` crawled it: the same pages, all unchanged.
        assert last["finish_reason"] == "finished" and last["totals"]["unchanged"] == 7
        assert json.loads(get(f"{base}/api/stats")[1])["documents"]["total"] == 7
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=90)
        stop_server(tmp_path / "data" / "demo")


def get_or_none(url: str) -> bytes | None:
    try:
        status, body = get(url)
    except OSError:
        return None
    return body if status == 200 else None


def test_an_empty_data_directory_is_named_and_nothing_is_started(tmp_path: Path) -> None:
    """`twin serve --demo` before `twin demo`, and `twin sync list` before anything was
    stored, say so (and where) without starting the embedded MongoDB there."""
    env = {**os.environ, "MONGODB_URI": "", "QDRANT_URL": ""}
    empty = tmp_path / "empty"
    demo = run(["twin_scraper.cli", "--data-dir", str(empty), "serve", "--demo"], env)
    assert demo.returncode == 1 and "Traceback" not in demo.stderr
    said = " ".join(demo.stderr.split())
    assert f"no demo corpus in {empty / 'demo'} yet: run `twin demo` first" in said
    listed = run(["twin_scraper.cli", "--data-dir", str(empty), "sync", "list"], env)
    assert listed.returncode == 0, listed.stderr
    assert f"nothing is stored in {empty} yet" in " ".join(listed.stdout.split())
    assert not empty.exists()
