"""Endpoint URL rules and the SSRF guard (SPEC §8.2).

The host is resolved and every address it resolves to must be public, unless the
operator allows private targets (PIVOTAL_WEBHOOKS_ALLOW_PRIVATE=1). The worker checks
again before each attempt, since DNS can change after the endpoint was saved.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from pivotal.core.errors import InvalidRequest

# Cloud metadata services answer on these; some are not in the "private" ranges.
_METADATA_HOSTS = {"metadata.google.internal", "metadata", "instance-data"}


class UnsafeUrl(ValueError):
    """The URL may not receive webhooks."""


def _address_allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or ip == ipaddress.ip_address("100.100.100.200")  # Alibaba metadata
    )


def check_target(url: str, *, allow_http: bool, allow_private: bool) -> None:
    """Raise UnsafeUrl when ``url`` may not receive webhooks."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeUrl("must be an absolute https:// URL")
    if parts.scheme == "http" and not allow_http:
        raise UnsafeUrl("must use https:// (http:// needs PIVOTAL_WEBHOOKS_ALLOW_HTTP=1)")
    if parts.username or parts.password:
        raise UnsafeUrl("must not carry credentials")
    if allow_private:
        return
    host = parts.hostname.rstrip(".").lower()
    if host in _METADATA_HOSTS or host == "localhost" or host.endswith(".localhost"):
        raise UnsafeUrl("must not point at this machine or a metadata service")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError) as exc:
        raise UnsafeUrl(f"host {host!r} does not resolve") from exc
    for info in infos:
        if not _address_allowed(str(info[4][0])):
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
