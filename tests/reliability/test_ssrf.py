"""Server-side request forgery: a crawl reaches public http(s) addresses only.

Everything here runs with the network guard in force: the allow-list is empty, or holds
exactly the one address a test serves its "public" site from (127.0.0.1), while the
internal targets listen on other loopback addresses (127.0.0.2, ::1) or are spelt so
that they reach 127.0.0.1 without saying so. Each probe is run once more with the
internal addresses allowed, to show it really reaches them: the refusals are the
guard's doing, not a server that was never there.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import scrapy
from scrapy.utils.defer import deferred_f_from_coro_f
from twisted.internet import defer, reactor

from tests.conftest import run_spider
from tests.gitserver import GitServer, MockGitHub
from tests.reliability.helpers import article_html, environment, run
from tests.test_github import repo_json, serve_user
from twin_scraper.browser import BrowserSpider, render_meta
from twin_scraper.config import project_settings
from twin_scraper.demo.server import Route, SiteServer
from twin_scraper.netguard import GuardedResolver, NetworkPolicy, parse_networks, resolve
from twin_scraper.spiders.article import ArticleSpider
from twin_scraper.spiders.github import GitHubSpider
from twin_scraper.stores.mongo import MongoStore

GUARDED: dict[str, Any] = {"ALLOWED_PRIVATE_NETWORKS": []}
PUBLIC_ONLY: dict[str, Any] = {"ALLOWED_PRIVATE_NETWORKS": ["127.0.0.1/32"]}
EVERY_LOOPBACK: dict[str, Any] = {
    "ALLOWED_PRIVATE_NETWORKS": ["127.0.0.0/8", "::1/128", "0.0.0.0/32"]
}


@dataclass
class Hosts:
    """The same routes served on 127.0.0.1 (the "public" site), 127.0.0.2 and ::1
    (internal services), one port for all three."""

    public: SiteServer
    internal: list[SiteServer]

    @property
    def port(self) -> int:
        return int(self.public.base.rsplit(":", 1)[1])

    def internal_hits(self) -> dict[str, int]:
        """Internal pages fetched (robots.txt, which the crawler asks first, aside)."""
        return {
            f"{s.base}{path}": n
            for s in self.internal
            for path, n in s.hits.items()
            if path.startswith("/secret/")
        }


@pytest.fixture
def hosts(tmp_path: Path) -> Iterator[Hosts]:
    (tmp_path / "site").mkdir()
    public = SiteServer(tmp_path / "site").start()
    port = int(public.base.rsplit(":", 1)[1])
    internal = [
        SiteServer(tmp_path / "site", port=port, host=host).start() for host in ("127.0.0.2", "::1")
    ]
    for server in internal:
        server.routes = public.routes  # one site, three addresses
    yield Hosts(public, internal)
    for server in (public, *internal):
        server.stop()


#: Loopback as a seed file or spider argument may spell it (`{port}`: the test site's).
SPELLINGS = [
    "localhost",
    "2130706433",  # 127.0.0.1 in decimal
    "0x7f000001",  # hex
    "0177.0.0.1",  # octal
    "127.1",
    "[::ffff:127.0.0.1]",  # IPv4-mapped IPv6
    "0.0.0.0",
    "127.0.0.2",
    "[::1]",
]


def spelt(port: int) -> list[str]:
    return [f"http://{host}:{port}/secret/{n}/" for n, host in enumerate(SPELLINGS)]


def serve_secrets(hosts: Hosts, count: int) -> None:
    """Internal pages worth stealing, each a distinct article."""
    for n in range(count):
        hosts.public.routes[f"/secret/{n}/"] = Route(article_html(900 + n, hosts.public.base))


def failures(mongo: MongoStore) -> list[dict[str, str]]:
    run = mongo.latest_runs(1)[0]
    return [f for d in run["domains"] for f in d["failures"]]


def refused(mongo: MongoStore) -> dict[str, str]:
    return {f["url"]: f["detail"] for f in failures(mongo) if f["reason"].startswith("refused")}


def stored(mongo: MongoStore) -> int:
    return sum(mongo.count_documents().values())


def secret_hits(hosts: Hosts) -> int:
    every = [hosts.public, *hosts.internal]
    return sum(n for s in every for path, n in s.hits.items() if path.startswith("/secret/"))


# --- the policy itself ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.0.0.2", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("64:ff9b::7f00:1", "loopback (as IPv6)"),  # NAT64
        ("2002:7f00:1::", "loopback (as IPv6)"),  # 6to4
        ("::127.0.0.1", "loopback (as IPv6)"),  # IPv4-compatible
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata services
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("100.64.0.1", "reserved"),  # carrier-grade NAT
        ("93.184.215.14", None),
        ("2606:4700::1111", None),
    ],
)
def test_the_policy_names_what_each_address_is(address: str, kind: str | None) -> None:
    assert NetworkPolicy().refusal(address) == kind


@pytest.mark.parametrize("host", ["localhost", "2130706433", "0x7f000001", "0177.0.0.1", "127.1"])
def test_every_spelling_resolves_to_what_it_reaches(host: str) -> None:
    addresses = resolve(host, 80)
    assert addresses and all(NetworkPolicy().refusal(a) == "loopback" for a in addresses)


def test_allowed_networks_are_exactly_what_is_listed() -> None:
    policy = NetworkPolicy(parse_networks("127.0.0.1/32, ::1"))
    assert policy.refusal("127.0.0.1") is None
    assert policy.refusal("::ffff:127.0.0.1") is None  # the same address
    assert policy.refusal("127.0.0.2") == "loopback"
    assert policy.refusal("::1") is None
    with pytest.raises(ValueError, match="TWIN_ALLOW_PRIVATE"):
        parse_networks("127.0.0.1/32,intranet")


def test_tests_allow_only_what_they_serve() -> None:
    """The session allows exactly 127.0.0.1 (tests/conftest.py), so every other test runs
    with the guard on too; this suite overrides it per crawl."""
    assert project_settings().getlist("ALLOWED_PRIVATE_NETWORKS") == ["127.0.0.1/32"]


@pytest.mark.parametrize("spider", [ArticleSpider, "seeds"])
def test_file_and_data_downloads_are_switched_off(spider: Any) -> None:
    from scrapy.crawler import Crawler

    from tests.conftest import SPIDERS

    spidercls = SPIDERS[spider] if isinstance(spider, str) else spider
    handlers = Crawler(spidercls, project_settings()).settings.getwithbase("DOWNLOAD_HANDLERS")
    assert {s: handlers[s] for s in ("file", "data", "s3", "ftp")} == dict.fromkeys(
        ("file", "data", "s3", "ftp")
    )


@defer.inlineCallbacks
def test_the_resolver_hands_connections_allowed_addresses_only() -> Iterator[Any]:
    """The backstop against DNS rebinding: whatever a name resolves to when the
    connection is made, refused addresses never reach it."""
    got: dict[str, list[str]] = {}

    class Receiver:
        def __init__(self, name: str) -> None:
            self.name, self.done = name, defer.Deferred()
            got[name] = []

        def resolutionBegan(self, resolution: Any) -> None:
            pass

        def addressResolved(self, address: Any) -> None:
            got[self.name].append(address.host)

        def resolutionComplete(self) -> None:
            self.done.callback(None)

    resolver = GuardedResolver(reactor, NetworkPolicy(parse_networks("127.0.0.1/32")))
    waits = []
    for name in ("127.0.0.1", "2130706434", "::1", "localhost"):
        receiver = Receiver(name)
        resolver.resolveHostName(receiver, name, 80)
        waits.append(receiver.done)
    yield defer.gatherResults(waits)
    assert got["127.0.0.1"] == ["127.0.0.1"]
    assert got["2130706434"] == [] and got["::1"] == []
    assert got["localhost"] and set(got["localhost"]) <= {"127.0.0.1"}


# --- seed files and spider arguments ------------------------------------------------------


def seeds_file(tmp_path: Path, urls: list[str]) -> Path:
    path = tmp_path / "loopback.yaml"
    lines = "".join(f"  - url: {u}\n" for u in urls)
    path.write_text(f"author: Rowan Vale\nlinks:\n{lines}")
    return path


@deferred_f_from_coro_f
async def test_a_seed_file_reaches_no_spelling_of_loopback(
    hosts: Hosts, settings: dict, mongo: MongoStore, tmp_path: Path
) -> None:
    serve_secrets(hosts, len(SPELLINGS))
    urls = spelt(hosts.port)
    await run_spider("seeds", {**settings, **GUARDED}, file=str(seeds_file(tmp_path, urls)))
    assert secret_hits(hosts) == 0
    assert stored(mongo) == 0
    refusals = refused(mongo)
    assert sorted(refusals) == sorted(urls)
    assert all("TWIN_ALLOW_PRIVATE" in detail for detail in refusals.values())
    assert "127.0.0.2 is a loopback address" in refusals[urls[SPELLINGS.index("127.0.0.2")]]


@deferred_f_from_coro_f
async def test_the_probe_reaches_every_spelling_when_allowed(
    hosts: Hosts, settings: dict, mongo: MongoStore, tmp_path: Path
) -> None:
    """The control of the test above: allowed, each spelling reaches a server."""
    serve_secrets(hosts, len(SPELLINGS))
    urls = spelt(hosts.port)
    await run_spider("seeds", {**settings, **EVERY_LOOPBACK}, file=str(seeds_file(tmp_path, urls)))
    every = [hosts.public, *hosts.internal]
    assert all(sum(s.hits.get(f"/secret/{n}/", 0) for s in every) for n in range(len(urls)))
    assert stored(mongo) == len(urls)


def test_spider_arguments_reach_no_spelling_of_loopback(
    hosts: Hosts, settings: dict, mongo: MongoStore
) -> None:
    """`scrapy crawl` as a user runs it, with TWIN_ALLOW_PRIVATE empty."""
    serve_secrets(hosts, len(SPELLINGS))
    urls = spelt(hosts.port)
    env = environment(settings, TWIN_ALLOW_PRIVATE="")
    result = run(["scrapy", "crawl", "article", "-a", f"url={','.join(urls)}"], env)
    assert "Crawl report: article (finished)" in result.stderr, result.stderr[-3000:]
    assert secret_hits(hosts) == 0
    assert stored(mongo) == 0
    assert sorted(refused(mongo)) == sorted(urls)
    assert "set TWIN_ALLOW_PRIVATE" in result.stderr


def test_an_ipv6_literal_is_fetched_when_allowed(
    hosts: Hosts, settings: dict, mongo: MongoStore
) -> None:
    """IPv6 literals resolve (Scrapy's default resolver is IPv4 only)."""
    serve_secrets(hosts, 1)
    url = f"http://[::1]:{hosts.port}/secret/0/"
    env = environment(settings, TWIN_ALLOW_PRIVATE="::1/128")
    result = run(["scrapy", "crawl", "article", "-a", f"url={url}"], env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert hosts.internal[1].hits.get("/secret/0/") == 1
    assert stored(mongo) == 1


# --- what a crawled site can make the crawler fetch ---------------------------------------


@deferred_f_from_coro_f
async def test_redirects_to_internal_addresses_are_refused(
    hosts: Hosts, settings: dict, mongo: MongoStore, tmp_path: Path
) -> None:
    secret_file = tmp_path / "passwd.html"
    secret_file.write_bytes(article_html(999, "file://"))
    port, site = hosts.port, hosts.public
    targets = [
        f"http://127.0.0.2:{port}/secret/0/",
        f"http://[::1]:{port}/secret/1/",
        f"http://2130706434:{port}/secret/2/",  # 127.0.0.2
        f"http://0x7f000002:{port}/secret/3/",
        f"http://0.0.0.0:{port}/secret/4/",  # reaches 127.0.0.1's server
        f"{site.base}/hop/",  # allowed, then on to 127.0.0.2
        secret_file.as_uri(),  # Scrapy itself does not follow this one
    ]
    hop_target = f"http://127.0.0.2:{port}/secret/5/"
    serve_secrets(hosts, 6)
    for n, target in enumerate(targets):
        site.routes[f"/r/{n}/"] = Route(b"", status=302, headers=(("Location", target),))
    site.routes["/hop/"] = Route(b"", status=301, headers=(("Location", hop_target),))
    asked = [site.url(f"/r/{n}/") for n in range(len(targets))]
    await run_spider(ArticleSpider, {**settings, **PUBLIC_ONLY}, url=",".join(asked))
    assert secret_hits(hosts) == 0
    assert stored(mongo) == 0
    refusals = refused(mongo)
    assert sorted(refusals) == sorted(asked[:-1])
    assert all("redirected" in d for d in refusals.values())
    assert "TWIN_ALLOW_PRIVATE" in refusals[asked[0]]
    assert f"{site.base}/hop/ -> {hop_target}" in refusals[asked[-2]]
    assert {f["url"]: f["reason"] for f in failures(mongo)}[asked[-1]] == "HTTP 302"


@deferred_f_from_coro_f
async def test_the_redirect_probe_reaches_internal_addresses_when_allowed(
    hosts: Hosts, settings: dict, mongo: MongoStore
) -> None:
    port, site = hosts.port, hosts.public
    serve_secrets(hosts, 2)
    site.routes["/r/0/"] = Route(
        b"", status=302, headers=(("Location", f"http://127.0.0.2:{port}/secret/0/"),)
    )
    site.routes["/r/1/"] = Route(
        b"", status=302, headers=(("Location", f"http://[::1]:{port}/secret/1/"),)
    )
    urls = f"{site.url('/r/0/')},{site.url('/r/1/')}"
    await run_spider(ArticleSpider, {**settings, **EVERY_LOOPBACK}, url=urls)
    assert hosts.internal_hits() == {
        f"http://127.0.0.2:{port}/secret/0/": 1,
        f"http://[::1]:{port}/secret/1/": 1,
    }


def discovery_site(hosts: Hosts, local: Path) -> dict[str, str]:
    """A blog whose feeds, robots.txt and sitemaps point inside: at 127.0.0.2, ::1 and
    files on the crawler's disk (which list a post that only reading them reveals)."""
    site, port = hosts.public, hosts.port
    internal, v6 = f"http://127.0.0.2:{port}", f"http://[::1]:{port}"
    post = site.url("/posts/ok/")

    def rss(items: list[str], next_url: str | None = None) -> bytes:
        entries = "".join(f"<item><title>x</title><link>{u}</link></item>" for u in items)
        paging = f'<atom:link rel="next" href="{next_url}"/>' if next_url else ""
        return (
            '<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">'
            f"<channel><title>Notes</title>{paging}{entries}</channel></rss>"
        ).encode()

    def urlset(pages: list[str]) -> bytes:
        locs = "".join(f"<url><loc>{u}</loc></url>" for u in pages)
        return (
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>'.encode()
        )

    local_feed, local_sitemap = local / "local-feed.xml", local / "local-sitemap.xml"
    local_feed.write_bytes(rss([site.url("/posts/from-file/")]))
    local_sitemap.write_bytes(urlset([site.url("/posts/from-file-sitemap/")]))
    targets = {
        "announced feed": f"{internal}/secret/feed.xml",
        "feed rel=next": f"{v6}/secret/feed-2.xml",
        "feed rel=next to a file": local_feed.as_uri(),
        "robots.txt sitemap": f"{internal}/secret/sitemap.xml",
        "robots.txt sitemap file": local_sitemap.as_uri(),
        "sitemap index child": f"{v6}/secret/sitemap-child.xml",
    }
    home = (
        "<html><head><title>Notes</title>"
        '<link rel="alternate" type="application/rss+xml" href="/feed.xml">'
        '<link rel="alternate" type="application/rss+xml" href="/feed-b.xml">'
        f'<link rel="alternate" type="application/rss+xml" href="{targets["announced feed"]}">'
        "</head><body>Notes</body></html>"
    )
    xml = "application/xml"
    site.routes.update(
        {
            "/": Route(home.encode()),
            "/feed.xml": Route(rss([post], targets["feed rel=next"]), xml),
            "/feed-b.xml": Route(rss([], targets["feed rel=next to a file"]), xml),
            "/robots.txt": Route(
                (
                    f"User-agent: *\nAllow: /\nSitemap: {targets['robots.txt sitemap']}\n"
                    f"Sitemap: {targets['robots.txt sitemap file']}\n"
                    f"Sitemap: {site.url('/sitemap-index.xml')}\n"
                ).encode(),
                "text/plain",
            ),
            "/sitemap-index.xml": Route(
                (
                    '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                    f"<sitemap><loc>{targets['sitemap index child']}</loc></sitemap>"
                    "</sitemapindex>"
                ).encode(),
                xml,
            ),
            "/posts/ok/": Route(article_html(1, site.base)),
            "/posts/from-file/": Route(article_html(2, site.base)),
            "/posts/from-file-sitemap/": Route(article_html(3, site.base)),
            # What the internal services would answer: feeds listing more posts.
            "/secret/feed.xml": Route(rss([site.url("/posts/from-inside/")]), xml),
            "/secret/feed-2.xml": Route(rss([site.url("/posts/from-inside/")]), xml),
            "/secret/sitemap.xml": Route(urlset([site.url("/posts/from-inside/")]), xml),
            "/secret/sitemap-child.xml": Route(urlset([site.url("/posts/from-inside/")]), xml),
            "/posts/from-inside/": Route(article_html(4, site.base)),
        }
    )
    return targets


@deferred_f_from_coro_f
async def test_feeds_and_sitemaps_cannot_lead_inside(
    hosts: Hosts, settings: dict, mongo: MongoStore, tmp_path: Path
) -> None:
    targets = discovery_site(hosts, tmp_path)
    site = hosts.public
    await run_spider(
        ArticleSpider, {**settings, **PUBLIC_ONLY}, site=site.url("/"), author="Rowan Vale"
    )
    assert hosts.internal_hits() == {}
    for path in ("/posts/from-file/", "/posts/from-file-sitemap/", "/posts/from-inside/"):
        assert site.hits.get(path) is None, path
    assert site.hits.get("/posts/ok/") == 1  # the crawl itself went on
    assert stored(mongo) == 1
    refusals = refused(mongo)
    assert len(refusals) == len(targets)
    by_name = {url.rsplit("/", 1)[1]: detail for url, detail in refusals.items()}
    assert sorted(by_name) == sorted(url.rsplit("/", 1)[1] for url in targets.values())
    assert "only http and https" in by_name["local-feed.xml"]
    assert "only http and https" in by_name["local-sitemap.xml"]
    assert "TWIN_ALLOW_PRIVATE" in by_name["sitemap.xml"]


@deferred_f_from_coro_f
async def test_the_discovery_probe_reaches_inside_when_allowed(
    hosts: Hosts, settings: dict, mongo: MongoStore, tmp_path: Path
) -> None:
    discovery_site(hosts, tmp_path)
    site = hosts.public
    await run_spider(
        ArticleSpider, {**settings, **EVERY_LOOPBACK}, site=site.url("/"), author="Rowan Vale"
    )
    reached = {url.split("/secret/")[1] for url in hosts.internal_hits()}
    assert reached == {"feed.xml", "feed-2.xml", "sitemap.xml", "sitemap-child.xml"}
    assert site.hits.get("/posts/from-inside/") == 1


class FileProbe(scrapy.Spider):
    """Asks for one URL and keeps what came back."""

    name = "file_probe"

    def __init__(self, url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.url = url
        self.bodies: list[bytes] = []
        self.errors: list[str] = []

    async def start(self) -> Any:
        yield scrapy.Request(self.url, callback=self.parse, errback=self.failed)

    def parse(self, response: Any) -> None:
        self.bodies.append(response.body)

    def failed(self, failure: Any) -> None:
        self.errors.append(str(failure.value))


@deferred_f_from_coro_f
async def test_file_urls_are_not_read_even_past_the_guard(settings: dict, tmp_path: Path) -> None:
    """Scrapy's file handler is off: with the guard middleware taken out, a file:// URL
    still fails instead of reading the disk."""
    secret = tmp_path / "secret.html"
    secret.write_text("the crawler's own disk")
    no_guard = {"twin_scraper.middlewares.NetworkGuardMiddleware": None}
    result = await run_spider(
        FileProbe, {**settings, "DOWNLOADER_MIDDLEWARES": no_guard}, url=secret.as_uri()
    )
    probe = result.crawler.spider
    assert probe.bodies == []
    assert probe.errors and "file" in probe.errors[0]


# --- rendered pages -----------------------------------------------------------------------


class RenderedArticles(BrowserSpider, ArticleSpider):
    """The article spider with every page rendered in Chromium."""

    name = "rendered_articles"

    def article_request(self, url: str, site: Any = None) -> scrapy.Request:
        request = super().article_request(url, site)
        request.meta.update(render_meta())
        return request


def rendered_site(hosts: Hosts) -> list[str]:
    """A page whose scripts, frames and images reach inside; returns the URLs to crawl."""
    site, port = hosts.public, hosts.port
    internal, v6 = f"http://127.0.0.2:{port}", f"http://[::1]:{port}"
    body = article_html(5, site.base).replace(
        b"</main>",
        (
            f'<iframe src="{v6}/secret/frame/"></iframe>'
            f'<script>fetch("{internal}/secret/xhr/").catch(() => null);</script>'
            f'<script src="{internal}/secret/script.js"></script></main>'
        ).encode(),
    )
    site.routes["/rendered/"] = Route(body)
    for path in ("/secret/frame/", "/secret/xhr/", "/secret/script.js"):
        site.routes[path] = Route(b"secret", "text/plain")
    serve_secrets(hosts, 1)
    return [site.url("/rendered/"), f"{internal}/secret/0/"]


@deferred_f_from_coro_f
async def test_rendered_pages_reach_nothing_inside(
    hosts: Hosts, settings: dict, mongo: MongoStore
) -> None:
    urls = rendered_site(hosts)
    result = await run_spider(
        RenderedArticles, {**settings, **PUBLIC_ONLY}, url=",".join(urls), author="Rowan Vale"
    )
    assert hosts.internal_hits() == {}
    assert result.stats.get("twin/guard/refused_in_browser", 0) >= 3
    assert stored(mongo) == 1  # the page itself, rendered
    assert sorted(refused(mongo)) == [urls[1]]  # the navigation to 127.0.0.2


@deferred_f_from_coro_f
async def test_the_rendering_probe_reaches_inside_when_allowed(
    hosts: Hosts, settings: dict, mongo: MongoStore
) -> None:
    urls = rendered_site(hosts)
    await run_spider(
        RenderedArticles, {**settings, **EVERY_LOOPBACK}, url=",".join(urls), author="Rowan Vale"
    )
    reached = {url.rsplit("/secret/", 1)[1] for url in hosts.internal_hits()}
    assert reached == {"frame/", "xhr/", "script.js", "0/"}


# --- the GitHub spider's clones -------------------------------------------------------------


@pytest.fixture
def inside_git(tmp_path: Path) -> Iterator[GitServer]:
    server = GitServer(tmp_path / "git", host="127.0.0.2")
    yield server
    server.stop()


@pytest.mark.parametrize("allowed", [False, True])
@deferred_f_from_coro_f
async def test_clones_reach_no_internal_address(
    allowed: bool, settings: dict, mongo: MongoStore, inside_git: GitServer
) -> None:
    """The API answers from an allowed address; the clone URL (GITHUB_CLONE_URL) points
    inside. Git resolves by itself, so the guard pins its resolution."""
    api = MockGitHub()
    try:
        repo = inside_git.create("ada/tools")
        repo.commit({"README.md": "# Tools\n\nSmall tools.\n"})
        serve_user(api, "ada")
        api.routes["/repos/ada/tools"] = [(200, {}, repo_json(inside_git, "ada/tools"))]
        api.routes["/repos/ada/tools/languages"] = [(200, {}, {"Python": 10})]
        networks = {**EVERY_LOOPBACK} if allowed else {**PUBLIC_ONLY}
        gh = {
            **settings,
            **networks,
            "GITHUB_API_URL": api.base,
            "GITHUB_CLONE_URL": inside_git.base,
            "GITHUB_TOKEN": "",
            "EMBED_ENABLED": False,
        }
        await run_spider(GitHubSpider, gh, repo="ada/tools")
    finally:
        api.stop()
    if allowed:
        assert inside_git.fetches("ada/tools") == 1
        assert stored(mongo) == 1
    else:
        assert inside_git.requests == []
        assert stored(mongo) == 0
        (detail,) = refused(mongo).values()
        assert "127.0.0.2 is a loopback address" in detail and "TWIN_ALLOW_PRIVATE" in detail
