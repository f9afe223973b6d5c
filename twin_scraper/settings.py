"""Every setting of twin_scraper, in one place.

Environment variables are read here and only here; everything else reads
`crawler.settings`, so `-s NAME=value` on the command line still wins. Defaults run with
nothing started by hand: an embedded MongoDB (nx-27017) and Qdrant's local mode under
`TWIN_DATA_DIR`.
"""

import os
from pathlib import Path

from twin_scraper import __version__


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


BOT_NAME = "twin_scraper"
SPIDER_MODULES = ["twin_scraper.spiders"]
NEWSPIDER_MODULE = "twin_scraper.spiders"

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
LOG_LEVEL = os.environ.get("TWIN_LOG_LEVEL", "INFO")
# Our formatter logs dropped/scraped items by URL, never the whole item (raw HTML, secrets).
LOG_FORMATTER = "twin_scraper.logformatter.TwinLogFormatter"

# --- Pipelines and extensions -----------------------------------------------------------
ITEM_PIPELINES = {
    "twin_scraper.pipelines.validate.ValidatePipeline": 100,
    "twin_scraper.pipelines.quality.QualityGatePipeline": 200,
    "twin_scraper.pipelines.dedupe.DedupePipeline": 300,
    "twin_scraper.pipelines.mongo.MongoPipeline": 400,
    "twin_scraper.pipelines.embed.EmbedPipeline": 500,
}
EXTENSIONS = {
    "twin_scraper.report.CrawlReportExtension": 500,
}

# --- Data directory ---------------------------------------------------------------------
TWIN_DATA_DIR = os.environ.get("TWIN_DATA_DIR", ".twin")

# --- MongoDB: raw documents -------------------------------------------------------------
# Empty: start (or reuse) the embedded nx-27017 server on a SQLite file in TWIN_DATA_DIR.
MONGO_URI = os.environ.get("MONGODB_URI", "")
MONGO_DATABASE = os.environ.get("TWIN_MONGO_DATABASE", "twin")
MONGO_BATCH_SIZE = 50
MONGO_TIMEOUT_MS = 5000

# --- Quality gate -----------------------------------------------------------------------
# Fewer words than this (per category) is an empty extraction, not content.
QUALITY_MIN_WORDS = {"articles": 40, "posts": 1, "repositories": 0}

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
EMBED_BATCH_SIZE = 16
EMBED_BATCH_DOCS = 16  # documents embedded together, each giving several chunks
EMBED_CHUNK_TOKENS = 200
EMBED_CHUNK_OVERLAP = 40
EMBED_THREADS = _env_int("TWIN_EMBED_THREADS", 0)  # 0: onnxruntime's default

# --- Platforms --------------------------------------------------------------------------
# Base URLs are settings so tests can point spiders at 127.0.0.1.
ARTICLE_FEED_PATHS = ["/feed.xml", "/rss.xml", "/atom.xml", "/index.xml", "/feed/", "/rss/"]
ARTICLE_MAX_FEED_PAGES = 50
ARTICLE_MAX_SITEMAPS = 200  # child sitemaps followed per site (indexes can be huge)
# Skip fetching a discovered post whose feed/sitemap date is not newer than the one seen
# when it was stored. Off: every post is fetched again (changes still found by content).
ARTICLE_TRUST_LISTING_DATES = True
