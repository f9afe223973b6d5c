"""URL canonicalisation: one identity per document, whatever link led to it."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit, urlunsplit

from w3lib.url import canonicalize_url as w3lib_canonicalize

TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "_hs")
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "ref_src",
        "ref_url",
        "mkt_tok",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "rb_clickid",
        "s_cid",
    }
)


def _is_tracking(name: str) -> bool:
    lowered = unquote(name).lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def canonicalize_url(url: str) -> str:
    """Normalise a URL for identity: lowercase scheme and host, no credentials, default
    port, fragment or tracking parameters, sorted query, no trailing slash (except the
    root). Idempotent, and never raises: what cannot be parsed is returned stripped."""
    # Odd inputs (";/", "a:////0") take more than one pass to settle: run to a fixpoint.
    text = url.strip()
    for _ in range(5):
        canonical = _canonical_once(text)
        if canonical == text:
            break
        text = canonical
    return text


def _canonical_once(text: str) -> str:
    try:
        parts = urlsplit(w3lib_canonicalize(text, keep_fragments=False))
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return text
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port and (parts.scheme, port) not in {("http", 80), ("https", 443)}:
        host = f"{host}:{port}"
    query = "&".join(
        pair for pair in parts.query.split("&") if pair and not _is_tracking(pair.split("=")[0])
    )
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), host, path, query, ""))


def strip_credentials(url: str) -> str:
    """The URL without a `user:password@` part (which would be logged and stored)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def domain_of(url: str) -> str:
    """Host without `www.` and port, lowercased: the unit of the crawl report."""
    try:
        host = (urlsplit(url.strip()).hostname or "").lower()
    except ValueError:
        return ""
    return host.removeprefix("www.")


def is_http_url(value: str) -> bool:
    """True for an absolute http(s) URL with a host."""
    try:
        parts = urlsplit(value.strip())
        return parts.scheme in {"http", "https"} and bool(parts.hostname)
    except ValueError:
        return False
