"""Who is calling: the client's address behind reverse proxies, and whether it may read the monitoring endpoints.

REMOTE_ADDR is the peer: behind a proxy, the proxy's for every request. Only a proxy listed in TRUSTED_PROXIES is
believed when it names the client in X-Forwarded-For (the right-most address it did not add itself); anyone else can
write that header.
"""

from __future__ import annotations

import hmac
import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=4)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies if p.strip())


def _trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))


def _forwarded_for(request: HttpRequest) -> list[str]:
    return [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]


def client_ip(request: HttpRequest) -> str:
    """The client's address as well as it can be told (django-axes' AXES_CLIENT_IP_CALLABLE)."""
    return known_client_ip(request) or request.META.get("REMOTE_ADDR", "")


def known_client_ip(request: HttpRequest) -> str | None:
    """The client's address, or None when it cannot be told: the request names a client in X-Forwarded-For but
    came from a peer not in TRUSTED_PROXIES (a proxy nobody declared, or a client writing the header itself)."""
    remote = request.META.get("REMOTE_ADDR", "")
    forwarded = _forwarded_for(request)
    if not _trusted(remote):
        return None if forwarded else remote
    for address in reversed(forwarded):
        if not _trusted(address):
            return address
    return remote if not forwarded else None


def monitor(request: HttpRequest) -> bool:
    """A scraper of /metrics and /health/: it presents METRICS_TOKEN as a bearer token, or comes from one of
    METRICS_ALLOWED_IPS (as far as its address can be told)."""
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    address = known_client_ip(request)
    return address is not None and address in settings.METRICS_ALLOWED_IPS
