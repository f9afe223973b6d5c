"""scrapy-playwright wiring: real Chromium renders a JavaScript list that grows on scroll."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import scrapy
from scrapy.utils.defer import deferred_f_from_coro_f

from tests.conftest import run_spider
from twin_scraper.browser import BrowserSpider, ScrollUntilStable, action_results, render_meta
from twin_scraper.demo.server import Route, SiteServer

# Adds 5 stories per scroll to the bottom, up to TOTAL; images and a web font are
# referenced so blocking them can be checked on the server.
FEED = """<!doctype html><html><head><title>Stories</title>
<style>@font-face {{ font-family: F; src: url(/font.woff2); }} body {{ font-family: F; }}
.story {{ height: 400px; }}</style></head>
<body><img src="/hero.png"><ul id="list"></ul>
<script>
const TOTAL = {total};
let shown = 0;
function more() {{
  for (let i = 0; i < 5 && shown < TOTAL; i++) {{
    shown++;
    const li = document.createElement("li");
    li.className = "story";
    li.innerHTML = `<a href="/s/${{shown}}">Story ${{shown}}</a><img src="/i/${{shown}}.png">`;
    document.getElementById("list").appendChild(li);
  }}
}}
more();
window.addEventListener("scroll", () => {{
  if (window.innerHeight + window.scrollY >= document.body.scrollHeight - 10) {{
    setTimeout(more, 50);
  }}
}});
</script></body></html>"""


class ProbeSpider(BrowserSpider, scrapy.Spider):
    """Renders one page with the given page actions and yields what it saw."""

    name = "browser_probe"

    def __init__(self, url: str, actions: tuple[Any, ...], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.url = url
        self.actions = actions
        self.seen: list[dict[str, Any]] = []
        self.errors: list[str] = []

    async def start(self) -> Any:
        yield scrapy.Request(
            self.url, meta=render_meta(*self.actions), callback=self.parse, errback=self.failed
        )

    def parse(self, response: scrapy.http.Response) -> None:
        self.seen.append(
            {
                "links": response.css("li.story a::attr(href)").getall(),
                "results": action_results(response),
            }
        )

    def failed(self, failure: Any) -> None:
        self.errors.append(str(failure.value))


class PlainProbeSpider(BrowserSpider, scrapy.Spider):
    """A browser-capable spider whose requests do not ask for rendering."""

    name = "plain_probe"

    def __init__(self, url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.url = url
        self.bodies: list[str] = []

    async def start(self) -> Any:
        yield scrapy.Request(self.url, callback=self.parse)

    def parse(self, response: scrapy.http.Response) -> None:
        self.bodies.append(response.text)


@pytest.fixture
def feed_site(tmp_path: Any) -> Iterator[SiteServer]:
    with SiteServer(tmp_path) as server:
        server.routes["/feed"] = Route(FEED.format(total=23).encode())
        server.routes["/empty"] = Route(FEED.format(total=0).encode())
        yield server


def browser_settings(settings: dict[str, Any]) -> dict[str, Any]:
    return {**settings, "ITEM_PIPELINES": {}, "ROBOTSTXT_OBEY": False}


@deferred_f_from_coro_f
async def test_scroll_until_stable_collects_every_item(
    feed_site: SiteServer, settings: dict[str, Any]
) -> None:
    action = ScrollUntilStable("li.story", max_items=1000, max_seconds=30, pause_ms=200)
    result = await run_spider(
        ProbeSpider, browser_settings(settings), url=feed_site.url("/feed"), actions=(action,)
    )
    [seen] = result.crawler.spider.seen
    assert seen["links"] == [f"/s/{n}" for n in range(1, 24)]
    [scroll] = seen["results"]
    assert (scroll.items, scroll.stopped_by) == (23, "stable")
    # Images and fonts are blocked before download; pages are closed after use.
    assert feed_site.hits.get("/hero.png") is None
    assert feed_site.hits.get("/font.woff2") is None
    assert not any(path.startswith("/i/") for path in feed_site.hits)
    stats = result.stats
    assert stats["playwright/page_count"] == stats["playwright/page_count/closed"] == 1


@deferred_f_from_coro_f
async def test_scrolling_stops_at_its_bounds(
    feed_site: SiteServer, settings: dict[str, Any]
) -> None:
    by_count = ScrollUntilStable("li.story", max_items=12, pause_ms=200)
    result = await run_spider(
        ProbeSpider, browser_settings(settings), url=feed_site.url("/feed"), actions=(by_count,)
    )
    [scroll] = result.crawler.spider.seen[0]["results"]
    assert scroll.stopped_by == "max_items" and 12 <= scroll.items < 23

    by_time = ScrollUntilStable("li.story", max_seconds=0.5, pause_ms=300)
    result = await run_spider(
        ProbeSpider, browser_settings(settings), url=feed_site.url("/feed"), actions=(by_time,)
    )
    [scroll] = result.crawler.spider.seen[0]["results"]
    assert scroll.stopped_by == "max_seconds" and scroll.items < 23


@deferred_f_from_coro_f
async def test_failing_page_action_closes_the_page_and_reaches_the_errback(
    feed_site: SiteServer, settings: dict[str, Any]
) -> None:
    async def broken(page: Any) -> None:
        raise RuntimeError("selector exploded")

    result = await run_spider(
        ProbeSpider, browser_settings(settings), url=feed_site.url("/empty"), actions=(broken,)
    )
    spider = result.crawler.spider
    assert spider.seen == []
    assert spider.errors == ["selector exploded"]
    stats = result.stats
    assert stats["playwright/page_count"] == stats["playwright/page_count/closed"] == 1


@deferred_f_from_coro_f
async def test_no_browser_starts_when_nothing_is_rendered(
    feed_site: SiteServer, settings: dict[str, Any]
) -> None:
    url = feed_site.url("/feed")
    result = await run_spider(PlainProbeSpider, browser_settings(settings), url=url)
    assert result.crawler.spider.bodies and "<li" not in result.crawler.spider.bodies[0]
    assert "playwright/browser_count" not in result.stats
    assert "playwright/page_count" not in result.stats
