"""Spider arguments as pydantic models, validated when the spider is built, so
`scrapy crawl x -a ...` fails at once with one clear message."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationError,
    field_validator,
    model_validator,
)

from twin_scraper.extract.github import valid_full_name, valid_login
from twin_scraper.items import full_name
from twin_scraper.urls import is_http_url, strip_credentials


class ArgumentError(ValueError):
    """Bad spider arguments; the message says which and what to pass instead."""


def parse_params(model: type[BaseModel], spider: str, kwargs: dict) -> BaseModel:
    try:
        return model.model_validate(kwargs)
    except ValidationError as exc:
        expected = ", ".join(model.model_fields)
        problems = "; ".join(
            (f"-a {e['loc'][0]}: " if e["loc"] else "")
            + (
                f"unknown argument (expected {expected})"
                if e["type"] == "extra_forbidden"
                else e["msg"].removeprefix("Value error, ")
            )
            for e in exc.errors()
        )
        raise ArgumentError(f"{spider} spider: {problems}") from None


def clean_author(value: str | None) -> str | None:
    if value is None:
        return None
    name = full_name(value)
    if not name:
        raise ValueError("the author's full name is blank")
    return name


#: The largest count anything stores (MongoDB's 64-bit integers).
MAX_LIMIT = 2**63 - 1


def _positive(value: int | None) -> int | None:
    if value is not None and value < 1:
        raise ValueError("must be a positive number")
    if value is not None and value > MAX_LIMIT:
        raise ValueError(f"must be at most {MAX_LIMIT}")
    return value


def _split_commas(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _http_urls(value: list[str] | None) -> list[str] | None:
    if value is not None:
        bad = [strip_credentials(u) for u in value if not is_http_url(u)]
        if bad:
            raise ValueError(f"not an http(s) URL: {', '.join(bad)}")
        if not value:
            raise ValueError("no URL given")
        value = [strip_credentials(u) for u in value]  # a password would be logged and stored
    return value


# Argument types every spider's params share: `-a author=` (a full name, normalised),
# `-a limit=` (a positive count), `-a url=` (one or more comma-separated URLs).
Author = Annotated[str | None, AfterValidator(clean_author)]
Limit = Annotated[int | None, AfterValidator(_positive)]
CommaList = Annotated[list[str] | None, BeforeValidator(_split_commas)]
HttpUrls = Annotated[CommaList, AfterValidator(_http_urls)]


class ArticleParams(BaseModel):
    """`-a url=URL[,URL...]` or `-a site=URL`, with optional `-a author=` and `-a limit=`."""

    model_config = ConfigDict(extra="forbid")

    url: HttpUrls = None
    site: str | None = None
    author: Author = None
    limit: Limit = None

    @field_validator("site")
    @classmethod
    def _site(cls, value: str | None) -> str | None:
        if value is not None and not is_http_url(value):
            raise ValueError(f"not an http(s) URL: {strip_credentials(value)}")
        return strip_credentials(value) if value is not None else None

    @model_validator(mode="after")
    def _one_source(self) -> ArticleParams:
        if (self.url is None) == (self.site is None):
            raise ValueError("give either -a url=URL[,URL...] or -a site=URL (one of them)")
        return self


class SeedsParams(BaseModel):
    """`-a file=seeds/NAME.yaml`, or the file's content as `-a yaml=...` (how
    `twin schedule` sends a seed file to a Scrapyd server, which cannot read the
    client's files), or links without a file: `-a url=URL[,URL...]` with optional
    `-a author=` and `-a limit=` (how `twin crawl URL` runs)."""

    model_config = ConfigDict(extra="forbid")

    file: str | None = None
    yaml: str | None = None
    url: HttpUrls = None
    author: Author = None
    limit: Limit = None

    @model_validator(mode="after")
    def _one_source(self) -> SeedsParams:
        if [self.file, self.yaml, self.url].count(None) != 2:
            raise ValueError(
                "give either -a file=SEEDFILE or -a yaml=CONTENT (the seed file's text) or "
                "-a url=URL[,URL...], one of them"
            )
        if self.url is None and (self.author is not None or self.limit is not None):
            raise ValueError("-a author and -a limit go with -a url (a seed file names its own)")
        return self


class GitHubParams(BaseModel):
    """`-a user=LOGIN [-a forks=true]` or `-a repo=OWNER/NAME`, with optional `-a author=`
    and `-a limit=` (at most this many repositories of the user, most recently pushed)."""

    model_config = ConfigDict(extra="forbid")

    user: str | None = None
    repo: str | None = None
    forks: bool = False
    author: Author = None
    limit: Limit = None

    @field_validator("user")
    @classmethod
    def _user(cls, value: str | None) -> str | None:
        if value is not None and not valid_login(value.strip()):
            raise ValueError(f"not a GitHub login: {value!r}")
        return value.strip() if value else value

    @field_validator("repo")
    @classmethod
    def _repo(cls, value: str | None) -> str | None:
        if value is not None:
            value = value.strip().removesuffix(".git")
            if not valid_full_name(value):
                raise ValueError(f"expected OWNER/NAME, got {value!r}")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> GitHubParams:
        if (self.user is None) == (self.repo is None):
            raise ValueError("give either -a user=LOGIN or -a repo=OWNER/NAME (one of them)")
        if self.repo is not None and (self.forks or self.limit is not None):
            raise ValueError("-a forks and -a limit go with -a user=LOGIN, not -a repo")
        return self
