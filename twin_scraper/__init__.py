"""twin_scraper: collect one person's own writing and code into a corpus for an LLM twin."""

__version__ = "0.1.0"
