"""Scrapy commands of this project (COMMANDS_MODULE): `scrapy crawl` with clear errors,
`scrapy check` against saved pages."""
