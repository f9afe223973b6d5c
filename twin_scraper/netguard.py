"""The network guard: the crawler reaches public http(s) addresses only.

A crawled site controls what the crawler fetches next (redirects, feed and sitemap links,
robots.txt `Sitemap:` lines), and so do seed files and spider arguments. Without a guard a
page could make the crawler read a cloud metadata service, an admin interface on the
local network or `file:///etc/passwd`, and store the answer in the corpus.

One policy decides: an address is refused when it is loopback, private, link-local,
multicast, unspecified or otherwise not globally routable, however it is written (IPv4
in decimal, hex or octal, `127.1`, IPv4-mapped IPv6, NAT64 and 6to4 forms), unless it
lies in ALLOWED_PRIVATE_NETWORKS (environment TWIN_ALLOW_PRIVATE: addresses or CIDR
ranges, comma-separated; empty by default). It is applied

- by `NetworkGuardMiddleware` to every request and every redirect hop, after resolving
  the host: clear error, entry in the crawl report;
- by `GuardedResolver`, the reactor's name resolver in every crawl process, which hands
  the connection only allowed addresses: a name that resolves differently the second
  time (DNS rebinding) still cannot reach a refused address;
- by the browser handler to every request a rendered page makes, and by the GitHub
  spider to the host it clones from (`pinned_resolution`).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest
from twisted.internet.interfaces import IHostnameResolver, IResolutionReceiver
from zope.interface import implementer, provider

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOW_VARIABLE = "TWIN_ALLOW_PRIVATE"
ALLOW_SETTING = "ALLOWED_PRIVATE_NETWORKS"
SCHEMES = ("http", "https")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


class TargetRefused(IgnoreRequest):
    """A request the network guard refused; the message names the cause and, for an
    address, the variable that would allow it."""

    def __init__(self, url: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.url = url
        self.reason = reason  # short and stable, for the crawl report


def parse_networks(values: str | Iterable[str]) -> tuple[IPNetwork, ...]:
    """`127.0.0.1/32,::1` (or a list of such entries) as networks; a bad entry raises
    ValueError naming the variable."""
    entries = values.split(",") if isinstance(values, str) else list(values)
    networks = []
    for entry in entries:
        text = str(entry).strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise ValueError(
                f"{ALLOW_VARIABLE} ({ALLOW_SETTING}): {text!r} is not an IP address or CIDR "
                "range (expected e.g. 127.0.0.1/32,10.0.0.0/8)"
            ) from None
    return tuple(networks)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries (6to4, NAT64, IPv4-compatible), if any."""
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64 or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_kind(ip: IPAddress) -> str | None:
    """Why an address is not public ("loopback", "private", ...), or None if it is."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return address_kind(ip.ipv4_mapped)
        embedded = _embedded_ipv4(ip)
        if embedded is not None and address_kind(embedded) is not None:
            return f"{address_kind(embedded)} (as IPv6)"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        return "reserved"
    return None


@dataclass(frozen=True)
class NetworkPolicy:
    """Which addresses the crawler may connect to."""

    allowed: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_settings(cls, settings: Any) -> NetworkPolicy:
        return cls(parse_networks(settings.getlist(ALLOW_SETTING)))

    def refusal(self, address: str | IPAddress) -> str | None:
        """Why a connection to `address` is refused, or None when it is allowed."""
        ip = ipaddress.ip_address(address) if isinstance(address, str) else address
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if any(ip.version == net.version and ip in net for net in self.allowed):
            return None
        return address_kind(ip)

    def scheme_refusal(self, url: str) -> TargetRefused | None:
        """A refusal for URLs that are not http(s) with a host, else None."""
        try:
            parts = urlsplit(url)
            host = parts.hostname
        except ValueError:
            return TargetRefused(url, "refused: bad URL", f"refused {url[:200]}: not a valid URL")
        if parts.scheme.lower() not in SCHEMES or not host:
            return TargetRefused(
                url,
                "refused: not http(s)",
                f"refused {url[:200]}: only http and https URLs with a host are fetched",
            )
        return None

    def address_refusal(
        self, url: str, host: str, addresses: Sequence[str]
    ) -> TargetRefused | None:
        """A refusal when none of the host's addresses is allowed (connections only ever
        go to the allowed ones: `GuardedResolver`), else None."""
        if not addresses:
            return None  # nothing resolved: the download fails on its own (DNS lookup failed)
        refusals = [(a, self.refusal(a)) for a in addresses]
        if any(reason is None for _, reason in refusals):
            return None
        address, kind = refusals[0]
        shown = host if host == address else f"{host} ({address})"
        return TargetRefused(
            url,
            "refused: private address",
            f"refused {url[:200]}: {shown} is a {kind} address. Private and local "
            f"addresses are not crawled unless allowed: set {ALLOW_VARIABLE} "
            f"(setting {ALLOW_SETTING}) to the addresses or ranges to allow, e.g. "
            f"{ALLOW_VARIABLE}={_suggestion(address)}",
        )


def _suggestion(address: str) -> str:
    ip = ipaddress.ip_address(address)
    return f"{ip}/{ip.max_prefixlen}"


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (an IP literal in any spelling resolves to itself)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))


class HostGuard:
    """The policy applied to URLs, with each host's resolution remembered for the crawl."""

    def __init__(self, policy: NetworkPolicy) -> None:
        self.policy = policy
        self._addresses: dict[tuple[str, int], list[str]] = {}

    async def check(self, url: str) -> None:
        """Raise TargetRefused when `url` may not be fetched."""
        refused = self.policy.scheme_refusal(url)
        if refused is not None:
            raise refused
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        key = (host, port)
        if key not in self._addresses:
            if len(self._addresses) > 10_000:
                self._addresses.clear()
            self._addresses[key] = await asyncio.to_thread(resolve, host, port)
        refused = self.policy.address_refusal(url, host, self._addresses[key])
        if refused is not None:
            raise refused


# --- the reactor's name resolver ----------------------------------------------------------


@provider(IResolutionReceiver)
class _FilteringReceiver:
    """Passes on only the addresses the policy allows."""

    def __init__(self, receiver: Any, policy: NetworkPolicy) -> None:
        self.receiver = receiver
        self.policy = policy

    def resolutionBegan(self, resolution: Any) -> None:
        self.receiver.resolutionBegan(resolution)

    def addressResolved(self, address: Any) -> None:
        host = getattr(address, "host", None)
        try:
            allowed = host is not None and self.policy.refusal(host.split("%")[0]) is None
        except ValueError:
            allowed = False
        if allowed:
            self.receiver.addressResolved(address)

    def resolutionComplete(self) -> None:
        self.receiver.resolutionComplete()


@implementer(IHostnameResolver)
class GuardedResolver:
    """TWISTED_DNS_RESOLVER: the system's resolver (IPv4 and IPv6, so IPv6 literals and
    AAAA-only hosts work), with every address the policy refuses left out."""

    def __init__(self, reactor: Any, policy: NetworkPolicy) -> None:
        self.reactor = reactor
        self.policy = policy
        self.original = reactor.nameResolver

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> GuardedResolver:
        return cls(reactor, NetworkPolicy.from_settings(crawler.settings))

    def install_on_reactor(self) -> None:
        self.reactor.installNameResolver(self)

    def resolveHostName(
        self,
        resolutionReceiver: Any,
        hostName: str,
        portNumber: int = 0,
        addressTypes: Any = None,
        transportSemantics: str = "TCP",
    ) -> Any:
        return self.original.resolveHostName(
            _FilteringReceiver(resolutionReceiver, self.policy),
            hostName,
            portNumber,
            addressTypes,
            transportSemantics,
        )


def pinned_resolution(url: str, policy: NetworkPolicy) -> str:
    """For a program that resolves by itself (git): `host:port:address` with an address
    the policy allows, to pin its resolution to (curl's `--resolve`); raises TargetRefused."""
    refused = policy.scheme_refusal(url)
    if refused is not None:
        raise refused
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    addresses = resolve(host, port)
    allowed = [a for a in addresses if policy.refusal(a) is None]
    if not allowed:
        refused = policy.address_refusal(url, host, addresses)
        if refused is not None:
            raise refused
        raise TargetRefused(url, "DNS lookup failed", f"cannot resolve {host}")
    address = allowed[0]
    name = f"[{host}]" if ":" in host else host
    return f"{name}:{port}:{f'[{address}]' if ':' in address else address}"
