"""Scrapy commands of this project (COMMANDS_MODULE): they replace Scrapy's own by name:
`scrapy crawl` with clear errors, an honest exit code and Scrapyd's setting policy,
`scrapy check` against saved pages."""
