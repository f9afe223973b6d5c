"""Every setting of twin_scraper, in one place.

Environment variables are read here and only here; everything else reads
`crawler.settings`, so `-s NAME=value` on the command line still wins. Defaults run with
nothing started by hand: an embedded MongoDB (nx-27017) and Qdrant's local mode under
`TWIN_DATA_DIR`.
"""

import os
from pathlib import Path

import platformdirs

from twin_scraper import __version__


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


BOT_NAME = "twin_scraper"
SPIDER_MODULES = ["twin_scraper.spiders"]
NEWSPIDER_MODULE = "twin_scraper.spiders"
# `scrapy crawl` with one-line errors for bad arguments, exit 1 when nothing succeeded or a
# crawl stopped on a fatal problem (a full disk), and
# Scrapyd jobs held to the settings a scheduler may change (twin_scraper/jobpolicy.py; a
# crawl from a shell keeps every setting); `scrapy check` runs the callbacks' contracts on
# saved pages (`@fixture PATH`).
COMMANDS_MODULE = "twin_scraper.commands"
SPIDER_CONTRACTS = {"twin_scraper.contracts.FixtureContract": 10}
TWIN_CONTRACTS = False  # set by `scrapy check`: spiders take their contract_arguments

# --- Politeness -------------------------------------------------------------------------
USER_AGENT = (
    f"twin_scraper/{__version__} (+https://github.com/twin-scraper/twin_scraper; "
    "collects an author's own writing at their request)"
)
ROBOTSTXT_OBEY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 4.0
CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 8
DOWNLOAD_DELAY = 0
DOWNLOAD_TIMEOUT = 30
RETRY_TIMES = 2
# A page over this size is refused, not stored truncated (Scrapy cancels the download).
DOWNLOAD_MAXSIZE = _env_int("TWIN_MAX_PAGE_BYTES", 10 * 1024 * 1024)
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
REDIRECT_MAX_TIMES = 10
# No code-execution consoles in a process that may hold credentials.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
# Feed exports (`scrapy crawl ... -O docs.jsonl`) carry every field of a Document but its
# raw HTML, which MongoDB keeps for re-extraction (a test holds this list to items.py).
FEED_EXPORT_FIELDS = [
    "platform", "category", "url", "canonical_url", "author_full_name", "byline", "title",
    "subtitle", "content", "language", "published_at", "updated_at", "fetched_at",
    "listed_updated_at", "extractor", "extractor_version", "truncated", "preview",
    "authoritative", "quality", "quality_reason", "http_status", "files", "extra",
]  # fmt: skip
LOG_LEVEL = os.environ.get("TWIN_LOG_LEVEL", "INFO")
# Our formatter logs dropped/scraped items by URL, never the whole item (raw HTML, secrets).
LOG_FORMATTER = "twin_scraper.logformatter.TwinLogFormatter"

# --- Pipelines and extensions -----------------------------------------------------------
ITEM_PIPELINES = {
    "twin_scraper.pipelines.validate.ValidatePipeline": 100,
    # A canonical URL on another host is taken only when the platform vouches for it.
    "twin_scraper.pipelines.canonical.CanonicalPipeline": 150,
    "twin_scraper.pipelines.quality.QualityGatePipeline": 200,
    "twin_scraper.pipelines.dedupe.DedupePipeline": 300,
    "twin_scraper.pipelines.mongo.MongoPipeline": 400,
    "twin_scraper.pipelines.embed.EmbedPipeline": 500,
}
TWIN_MAP_ONLY = False  # `twin map`: see SPIDER_MIDDLEWARES
EXTENSIONS = {
    "twin_scraper.report.CrawlReportExtension": 500,
    "twin_scraper.jobdir.FinishedJobDirCleanup": 600,
    "twin_scraper.progress.CrawlProgressExtension": 700,
}
# A running crawl records its progress (pages fetched / discovered) in MongoDB this often
# (seconds) for `twin serve`; 0 turns it off.
PROGRESS_INTERVAL = 2.0

# --- Data directory ---------------------------------------------------------------------
# One well-known place whatever the current folder (`twin info` shows it): the platform's
# user data directory, e.g. ~/.local/share/twin_scraper on Linux. `twin --data-dir DIR`
# or TWIN_DATA_DIR picks another.
TWIN_DATA_DIR = os.environ.get("TWIN_DATA_DIR") or platformdirs.user_data_dir(
    "twin_scraper", appauthor=False
)

# --- MongoDB: raw documents -------------------------------------------------------------
# Empty: start (or reuse) the embedded nx-27017 server on a SQLite file in TWIN_DATA_DIR.
MONGO_URI = os.environ.get("MONGODB_URI", "")
MONGO_DATABASE = os.environ.get("TWIN_MONGO_DATABASE", "twin")
MONGO_BATCH_SIZE = 50
MONGO_TIMEOUT_MS = 5000

# --- Reliability: MongoDB outages and hostile servers -------------------------------------
# While MongoDB is unreachable, documents wait in TWIN_DATA_DIR/journal/ and MongoDB is
# tried again after these delays (doubling, in seconds).
MONGO_RETRY_FIRST_DELAY = 1.0
MONGO_RETRY_MAX_DELAY = 30.0
# A job directory (-s JOBDIR=..., `twin crawl --resume`) that survives SIGKILL: a request
# counts as done only once its page is settled, so a killed crawl resumes losing nothing.
DUPEFILTER_CLASS = "twin_scraper.dupefilter.ResumableDupeFilter"
# 429/503 are retried (RETRY_TIMES) after the host's Retry-After, or after this base
# back-off doubling per retry; every request to that host waits meanwhile. A host asking
# for longer than RETRY_AFTER_MAX seconds is not retried (the page is reported).
DOWNLOADER_MIDDLEWARES = {
    # First: every request and redirect hop goes through the network guard (below).
    "twin_scraper.middlewares.NetworkGuardMiddleware": 10,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "twin_scraper.middlewares.RetryAfterMiddleware": 550,
    # Last: GITHUB_TOKEN is put on a request only while it is on the wire.
    "twin_scraper.middlewares.GitHubAuthMiddleware": 950,
}
# A link longer than URLLENGTH_LIMIT (2,083 characters, as Scrapy) is reported, not
# dropped silently.
SPIDER_MIDDLEWARES = {
    # `twin map`: next to the engine, it takes post requests out (TWIN_MAP_ONLY only).
    "twin_scraper.mapping.MapOnlyMiddleware": 50,
    "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
    "twin_scraper.middlewares.ReportedUrlLengthMiddleware": 800,
}
# A page with more tags than this is refused before extraction (a million links would take
# minutes and gigabytes); real articles have a few thousand.
PAGE_MAX_ELEMENTS = 150_000
RETRY_BACKOFF_BASE = 1.0
RETRY_AFTER_MAX = 120.0

# --- Network guard: public http(s) addresses only ---------------------------------------
# Loopback, private, link-local, multicast and unspecified addresses are refused (after
# DNS resolution, on every request and redirect hop), unless listed here: addresses or
# CIDR ranges, comma-separated. Tests, benchmarks and `twin demo` allow exactly what they
# serve (127.0.0.1/32). See twin_scraper/netguard.py.
ALLOWED_PRIVATE_NETWORKS = [
    n.strip() for n in os.environ.get("TWIN_ALLOW_PRIVATE", "").split(",") if n.strip()
]
# The reactor's resolver: IPv4 and IPv6, and never an address the guard refuses.
TWISTED_DNS_RESOLVER = "twin_scraper.netguard.GuardedResolver"
# http(s) only: no file://, data:, s3:// or ftp:// downloads.
DOWNLOAD_HANDLERS = {"file": None, "data": None, "s3": None, "ftp": None}

# --- Quality gate -----------------------------------------------------------------------
# Fewer words than this (per category) is an empty extraction, not content. The floor is a
# guard against failed HTML extraction (a few words of navigation left), set below the
# shortest real articles seen: on the 573 pages of ../shared/eval, real main texts of 28-37
# words extract as such (a blog post, a podcast page); walls and challenges are refused by
# their own checks (docs/platforms.md). Bodies a platform gives whole (Substack's API, a
# LinkedIn export, a README) and platforms' previews of paid posts have no floor.
QUALITY_MIN_WORDS = {"articles": 15, "posts": 1, "repositories": 0}

# --- Embedding into Qdrant: features ----------------------------------------------------
EMBED_ENABLED = _env_bool("TWIN_EMBED", True)
# Empty: qdrant-client's local mode under TWIN_DATA_DIR/qdrant.
QDRANT_URL = os.environ.get("QDRANT_URL", "")
QDRANT_API_KEY = os.environ.get("QDRANT_API_KEY", "")
# Local mode's directory; empty: TWIN_DATA_DIR/qdrant.
QDRANT_PATH = os.environ.get("TWIN_QDRANT_PATH", "")
# The model's name is appended, so a model change never mixes vectors of two models.
QDRANT_COLLECTION = os.environ.get("TWIN_QDRANT_COLLECTION", "twin_chunks")
EMBED_MODEL_DIR = os.environ.get(
    "TWIN_MODEL_DIR", str(Path.home() / ".cache" / "twin_scraper" / "models")
)
EMBED_AUTO_FETCH = _env_bool("TWIN_MODEL_AUTO_FETCH", True)
# Chunks per model call: 16 is as fast as 64 on CPU, and onnxruntime's memory grows
# with it (about 0.6 GB at 16, 2 GB at 64 for 200-token chunks: README, Benchmarks).
EMBED_BATCH_SIZE = 8  # chunks per model call: the benchmark sweep on 2 cores favours 8
EMBED_BATCH_DOCS = 16  # documents embedded together, each giving several chunks
EMBED_CHUNK_TOKENS = 200
EMBED_CHUNK_OVERLAP = 40
EMBED_THREADS = _env_int("TWIN_EMBED_THREADS", 0)  # 0: onnxruntime's default

# --- Browser: scrapy-playwright with Chromium -------------------------------------------
# Only spiders mixing in twin_scraper.browser.BrowserSpider enable the handler, and it
# launches Chromium on the first rendered request. Debian's chromium by default
# (`playwright install` is not needed); TWIN_CHROMIUM points at another binary.
PLAYWRIGHT_BROWSER_TYPE = "chromium"
PLAYWRIGHT_LAUNCH_OPTIONS = {
    "executable_path": os.environ.get("TWIN_CHROMIUM", "/usr/bin/chromium"),
    "headless": True,
    "args": [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ],
}
PLAYWRIGHT_MAX_CONTEXTS = 2
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = 4  # bounds the pages open at once
PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT = 30_000  # ms
PLAYWRIGHT_ABORT_REQUEST = "twin_scraper.browser.block_heavy_resources"

# --- Platforms --------------------------------------------------------------------------
# Base URLs are settings so tests can point spiders at 127.0.0.1.
ARTICLE_FEED_PATHS = ["/feed.xml", "/rss.xml", "/atom.xml", "/index.xml", "/feed/", "/rss/"]
ARTICLE_MAX_FEED_PAGES = 50
ARTICLE_MAX_SITEMAPS = 200  # child sitemaps followed per site (indexes can be huge)
# Skip fetching a discovered post whose feed/sitemap date is not newer than the one seen
# when it was stored. Off: every post is fetched again (changes still found by content).
ARTICLE_TRUST_LISTING_DATES = True

# --- Scrapyd: crawls as a service (`twin scrapyd`, `twin schedule`) ----------------------
# Scrapyd itself reads SCRAPYD_USERNAME/SCRAPYD_PASSWORD (and SCRAPYD_HTTP_PORT,
# SCRAPYD_BIND_ADDRESS); `twin scrapyd` refuses to start it without both credentials.
SCRAPYD_URL = os.environ.get("SCRAPYD_URL", "http://127.0.0.1:6800")
SCRAPYD_USERNAME = os.environ.get("SCRAPYD_USERNAME", "")
SCRAPYD_PASSWORD = os.environ.get("SCRAPYD_PASSWORD", "")
SCRAPYD_PROJECT = "twin_scraper"
# A crawl that finds Qdrant's local storage held by another process (another job) leaves
# its documents pending, then waits up to this many seconds at its end to embed them.
QDRANT_BUSY_WAIT = _env_float("TWIN_QDRANT_WAIT", 120.0)
# Set by `scrapy crawl` in a Scrapyd job: why each refused `setting=` was refused.
TWIN_REFUSED_JOB_SETTINGS: list[str] = []

# --- Dashboard and syncs (`twin serve`, `twin sync`) -------------------------------------
SERVE_HOST = "127.0.0.1"
SERVE_PORT = 8700
# Required to bind anything but the loopback address (and checked whenever set): give it as
# the password of HTTP basic auth (any user name) or as `Authorization: Bearer TOKEN`.
SERVE_TOKEN = os.environ.get("TWIN_SERVE_TOKEN", "")
# Where syncs run: `local` (a crawl process on this machine) or `scrapyd` (a job on
# SCRAPYD_URL); `twin sync add --runner` chooses per sync.
SYNC_RUNNER = os.environ.get("TWIN_SYNC_RUNNER", "local")
# Periods such as "every day at 06:00" are read in this time zone (empty: the machine's).
SYNC_TIMEZONE = os.environ.get("TWIN_SYNC_TIMEZONE", "")
# A local sync crawl running longer than this (seconds) is stopped (gracefully, then killed).
SYNC_MAX_SECONDS = _env_float("TWIN_SYNC_MAX_SECONDS", 6 * 3600.0)
SYNC_LOGS_KEPT = 10  # log files kept per sync
# Set by a sync on the crawls it starts (`-s TWIN_SYNC_ID=NAME`): their crawl report and
# progress name it.
TWIN_SYNC_ID = ""

# --- LinkedIn ---------------------------------------------------------------------------
# Where linkedin.com links are served from (tests point it at 127.0.0.1).
LINKEDIN_BASE_URL = "https://www.linkedin.com"
# The member's own session, for `-a user=`: their `li_at` cookie, or a Playwright
# storage-state file saved after logging in (it wins when both are set). Secrets: never
# logged, stored or reported.
LINKEDIN_LI_AT = os.environ.get("LINKEDIN_LI_AT", "")
LINKEDIN_STORAGE_STATE = os.environ.get("LINKEDIN_STORAGE_STATE", "")
# Politeness: one LinkedIn page at a time, seconds between pages (randomised 0.5-1.5x).
LINKEDIN_CONCURRENCY = 1
LINKEDIN_DOWNLOAD_DELAY = 8.0
# Scrolling an activity feed stops at this many posts or seconds; it waits this long
# (seconds) for more posts after each scroll.
LINKEDIN_MAX_POSTS = 300
LINKEDIN_SCROLL_SECONDS = 180
LINKEDIN_SCROLL_PAUSE = 1.5

# --- Substack ---------------------------------------------------------------------------
# Where `-a publication=NAME` lives ({name} is replaced); tests point it at 127.0.0.1, and
# links on its host are routed to the substack spider.
SUBSTACK_BASE_URL = "https://{name}.substack.com"
# Where people's profiles (substack.com/@handle) and their API live; tests point it at 127.0.0.1.
SUBSTACK_PROFILE_URL = "https://substack.com"
SUBSTACK_ARCHIVE_PAGE_SIZE = 50  # posts per archive page: Substack refuses more than 50
# Skip fetching a listed post whose archive date and fields (title, subtitle, audience,
# word count) match the stored ones. Off: every post is fetched (changes found by content).
SUBSTACK_TRUST_LISTING_DATES = True

# --- Medium -----------------------------------------------------------------------------
# Medium's origin (a 127.0.0.1 mock in tests); its domain routes seed links to `medium`.
MEDIUM_BASE_URL = "https://medium.com"
# Bounds of scrolling a profile or publication list (stories found, seconds spent).
MEDIUM_LIST_MAX_STORIES = 2000
MEDIUM_LIST_MAX_SECONDS = 120
MEDIUM_LIST_PAUSE_MS = 800  # wait after each scroll for the next stories to load
# Skip fetching a listed story whose RSS `updated` (or list date) is not newer than the
# one stored. Off: every story is fetched again (changes still found by content).
MEDIUM_TRUST_LISTING_DATES = True

# --- GitHub: an author's repositories ---------------------------------------------------
# Base URLs are settings so tests can point the spider at 127.0.0.1.
GITHUB_API_URL = "https://api.github.com"
# Repositories are cloned from GITHUB_CLONE_URL/OWNER/NAME.git (http or https only).
GITHUB_CLONE_URL = "https://github.com"
# Optional: 5,000 API requests an hour instead of 60. Sent to the API only, never logged.
GITHUB_TOKEN = os.environ.get("GITHUB_TOKEN", "")
# On an exhausted rate limit, wait for the reset when it is at most this far (seconds);
# otherwise stop the crawl and say when to run again.
GITHUB_RATE_LIMIT_MAX_WAIT = 300
GITHUB_CLONE_TIMEOUT = 300  # seconds for one git command (ls-remote, clone, ls-tree)
GITHUB_CLONE_WORKERS = 2  # clones at once, on worker threads
# Larger repositories (by the API's `size`) are not cloned; a clone that grows past it on
# disk is stopped.
GITHUB_MAX_REPO_KB = 1024 * 1024
GITHUB_MAX_FILE_BYTES = 1024 * 1024  # larger files are skipped (and reported)
GITHUB_MAX_REPO_TEXT_BYTES = 128 * 1024 * 1024  # text kept per repository (then truncated)
# Files never kept (gitignore syntax), besides binaries, minified and generated files and
# the repository's own .gitignore: lockfiles, vendored and generated code, build output.
GITHUB_IGNORE = [
    "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lockb",
    "poetry.lock", "Pipfile.lock", "uv.lock", "pdm.lock", "Cargo.lock", "Gemfile.lock",
    "composer.lock", "go.sum", "mix.lock", "pubspec.lock", "packages.lock.json",
    "vendor/", "vendors/", "third_party/", "third-party/", "node_modules/",
    "bower_components/", "site-packages/", ".venv/", "venv/", "Pods/",
    "dist/", "build/", "target/", "out/", "coverage/", "__pycache__/", ".git/",
    "*.min.js", "*.min.css", "*.map", "*.bundle.js", "*.chunk.js", "*_pb2.py", "*_pb2_grpc.py",
    "*.pb.go", "*.generated.*", "*.g.dart", "*.svg", "*.pdf",
]  # fmt: skip
