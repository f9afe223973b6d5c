"""Is this page content, or a wall in front of it? Pure heuristics over HTML and text.

The reference crawlers stored "Just a moment..." interstitials and login walls as
articles. A wall is short and says what it is (in its title, its markup or its few
words); an article that merely mentions such words is long, so length guards every rule.
"""

from __future__ import annotations

import re

from twin_scraper.items import Quality

_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)

CHALLENGE_TITLES = (
    "just a moment",
    "attention required",
    "verify you are human",
    "are you a robot",
    "security check",
    "checking your browser",
    "ddos-guard",
    "access to this page has been denied",
    "human verification",
    "bot verification",
)
CHALLENGE_MARKUP = (
    "challenge-platform",
    "cf-browser-verification",
    "cf_chl_opt",
    "cf-turnstile",
    "captcha-delivery.com",
    "px-captcha",
    "g-recaptcha",
    "h-captcha",
    "_incapsula_resource",
    "checking if the site connection is secure",
    "enable javascript and cookies to continue",
    "verify you are human",
)
LOGIN_PHRASES = (
    "sign in to continue",
    "log in to continue",
    "login to continue",
    "sign in to read",
    "log in to read",
    "sign up to continue reading",
    "subscribe to continue reading",
    "create a free account to continue",
    "create an account to continue",
    "this content is for members only",
    "this post is for paid subscribers",
    "you must be logged in",
    "please log in to view",
    "join now to see",
    "sign in to view",
)
ERROR_TITLES = re.compile(
    r"(\b404\b|page not found|not found\b|can.t be found|cannot be found|no longer exists|"
    r"does not exist|server error|\b50[0234]\b|service unavailable|access denied|forbidden|"
    r"something went wrong|error occurred)",
    re.IGNORECASE,
)

WALL_MAX_WORDS = 250  # walls are short; an article mentioning the same words is not


def page_title(html: str) -> str:
    match = _TITLE.search(html[:200_000])
    return " ".join(match.group(1).split()).lower() if match else ""


def assess(
    html: str, text: str, title: str | None, status: int = 200
) -> tuple[Quality, str | None]:
    """Verdict on a fetched page, given its HTML, extracted text and title."""
    words = len(text.split())
    head_title = page_title(html)
    lowered = html[:500_000].lower()
    short = words < WALL_MAX_WORDS
    if any(t in head_title for t in CHALLENGE_TITLES) or (
        short and any(m in lowered for m in CHALLENGE_MARKUP)
    ):
        return Quality.CHALLENGE, f"bot challenge page (title {head_title[:80]!r}, HTTP {status})"
    lowered_text = text.lower()
    if short and any(p in lowered_text or p in lowered for p in LOGIN_PHRASES):
        return Quality.LOGIN_WALL, "login or paywall page instead of the content"
    if status >= 400:
        return Quality.ERROR_PAGE, f"HTTP {status}"
    titles = f"{head_title} {(title or '').lower()}"
    if short and ERROR_TITLES.search(titles):
        return Quality.ERROR_PAGE, f"error page served as HTTP {status} (title {head_title[:80]!r})"
    if not text.strip():
        return Quality.EMPTY, "no main text found"
    return Quality.OK, None


_NOT_FREE = re.compile(r"""["']isAccessibleForFree["']\s*:\s*["']?false""", re.IGNORECASE)


def is_preview(html: str, text: str) -> bool:
    """A page that shows only the start of its text: it declares itself not free
    (schema.org `isAccessibleForFree: false`) or its text ends in a paywall prompt."""
    tail = text[-400:].lower()
    return bool(_NOT_FREE.search(html[:500_000])) or any(p in tail for p in LOGIN_PHRASES)
