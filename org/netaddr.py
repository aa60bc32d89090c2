"""The client's address: ``X-Forwarded-For`` is believed only from the proxies we run.

Behind a reverse proxy every request comes from the proxy's address; keying sign-in lockout
(and the audit log's "from where") on it would let anyone lock everybody out. But the header
is written by whoever sends the request, so it is read only when the direct peer
(``REMOTE_ADDR``) is one of ``DJANGO_TRUSTED_PROXIES`` (addresses or CIDR networks), and then
from the right: the first address that is not itself a trusted proxy is the client.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(spec: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in spec if item.strip())


def trusted_networks() -> tuple[Network, ...]:
    return _networks(tuple(settings.TRUSTED_PROXIES))


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _is_trusted(address, networks) -> bool:
    return any(address in network for network in networks)


def client_ip(request) -> str | None:
    """The client's address for lockout, throttling and the audit log (``AXES_CLIENT_IP_CALLABLE``)."""
    peer = request.META.get("REMOTE_ADDR", "")
    networks = trusted_networks()
    peer_address = _address(peer)
    if peer_address is None:
        return peer or None
    if not networks or not _is_trusted(peer_address, networks):
        return str(peer_address)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for hop in reversed([part for part in forwarded.split(",") if part.strip()]):
        address = _address(hop)
        if address is None:
            break  # a malformed hop: believe nothing further left of it
        if not _is_trusted(address, networks):
            return str(address)
    return str(peer_address)
