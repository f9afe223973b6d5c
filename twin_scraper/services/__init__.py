"""What the `twin` command does, as plain functions: the CLI, the dashboard and the tests
call the same ones.

Every service takes a `Workspace` (the project's settings plus what the command line
set, such as `--data-dir`), returns plain values and raises `ServiceError` with a message
for the user. Services never print: `twin_scraper/cli.py` parses arguments, calls one
service and prints what it returns.

    workspace   Workspace, ServiceError: settings, stores and where they live
    crawling    crawls of URLs and seed files, run with Scrapy's AsyncCrawlerRunner
    pages       one page as Markdown (`twin md`), what a crawl would fetch (`twin map`)
    corpus      search, embed, re-extract, export, journal replay
    reports     stored crawl reports
    dump        a mongodump-compatible copy of the database, and its restore
    info        where everything is (`twin info`)
"""
