"""Endpoint URL rules and the SSRF guard (SPEC §8.2).

Every address a webhook host resolves to must be public, unless the operator allows
private targets (PIVOTAL_WEBHOOKS_ALLOW_PRIVATE=1). The host is checked when the URL
is saved, and again at each attempt by a transport that connects only to the address
it has just vetted, so DNS that changes in between (rebinding) cannot redirect a
delivery to this machine or its network.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpcore
import httpx

from pivotal.core.errors import InvalidRequest

# Cloud metadata services answer on these; some are not in the "private" ranges.
_METADATA_HOSTS = {"metadata.google.internal", "metadata", "instance-data"}
_SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT
_ALIBABA_METADATA = ipaddress.ip_address("100.100.100.200")


class UnsafeUrl(ValueError):
    """The URL may not receive webhooks."""


def address_allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        # IPv4 hidden inside IPv6 (mapped, 6to4, Teredo) is judged as the IPv4 it is.
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            ip = embedded
    if isinstance(ip, ipaddress.IPv4Address) and (
        ip in _SHARED_ADDRESS_SPACE or ip == _ALIBABA_METADATA
    ):
        return False
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def check_target(url: str, *, allow_http: bool, allow_private: bool, resolve: bool = True) -> None:
    """Raise UnsafeUrl when ``url`` may not receive webhooks."""
    if any(ord(ch) < 33 or ord(ch) == 127 for ch in url):
        raise UnsafeUrl("must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL) as exc:
        raise UnsafeUrl("is not a valid URL") from exc
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeUrl("must be an absolute https:// URL")
    if parts.scheme == "http" and not allow_http:
        raise UnsafeUrl("must use https:// (http:// needs PIVOTAL_WEBHOOKS_ALLOW_HTTP=1)")
    if parts.username or parts.password:
        raise UnsafeUrl("must not carry credentials")
    if allow_private or not resolve:
        return
    host = parts.hostname.rstrip(".").lower()
    if host in _METADATA_HOSTS or host == "localhost" or host.endswith(".localhost"):
        raise UnsafeUrl("must not point at this machine or a metadata service")
    try:
        infos = socket.getaddrinfo(host, port or 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as exc:
        raise UnsafeUrl(f"host {host!r} does not resolve") from exc
    if not all(address_allowed(str(info[4][0])) for info in infos):
        raise UnsafeUrl(
            "resolves to a loopback, private or link-local address "
            "(allowed only with PIVOTAL_WEBHOOKS_ALLOW_PRIVATE=1)"
        )


def validate_endpoint_url(url: str, *, allow_http: bool, allow_private: bool) -> str:
    """The URL as stored, or the 400 that names the rule it breaks."""
    try:
        check_target(url, allow_http=allow_http, allow_private=allow_private)
    except UnsafeUrl as exc:
        raise InvalidRequest("invalid_string", f"url {exc}", "url") from exc
    return url


class _PinnedBackend(httpcore.AsyncNetworkBackend):
    """Resolves, vets every address, then connects to a vetted one (TLS still verifies
    the certificate against the URL's host name)."""

    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise httpcore.ConnectError(f"{host} does not resolve") from exc
        addresses = [str(info[4][0]) for info in infos]
        if not addresses or not all(address_allowed(a) for a in addresses):
            raise httpcore.ConnectError(f"{host} resolves to a non-public address; refused")
        return await self._inner.connect_tcp(
            addresses[0], port, timeout, local_address, socket_options
        )

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not webhook targets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class PinnedTransport(httpx.AsyncHTTPTransport):
    """An httpx transport whose connections go only to vetted public addresses."""

    def __init__(self) -> None:
        super().__init__()
        # httpx builds its pool privately; this swaps in one with our network backend.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(), network_backend=_PinnedBackend()
        )
