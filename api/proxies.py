"""The client's address behind proxies: resolved once per request, before anything reads it.

``X-Forwarded-For`` is a list that every proxy on the way appends the address it was
connected from to; whatever the client itself sent comes first and proves nothing. So the
list is believed only from the end that our own proxies wrote: when the direct peer is in
``TRUSTED_PROXIES``, the list is walked right to left, skipping trusted hops, and the first
address that is not a trusted proxy is the client. From any other peer the header is
ignored, and the peer is the client.

werkzeug's ``ProxyFix`` trusts a number of hops instead. That count is true only while
every request takes the same path: a client that reaches the app directly, or through one
proxy fewer (an edge that passes some requests on without a load balancer, a health check,
a neighbour on the private network) would then name its own address in the header, and the
failed-sign-in throttle, the limits and ``/metrics`` access would all believe it. Trusting
addresses keeps the rule true whichever way a request came.

The middleware wraps the whole app (it is installed last, as the outermost layer), so
Flask-Limiter's key, the failed-authentication throttle, access checks and logs all read
the client from ``request.remote_addr``. The direct peer stays in the environ as
``tarjuma.peer``. Without trusted proxies nothing is wrapped: the peer is the client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from flask import Flask

from api.config import Network, trusted_proxies

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

PEER = "tarjuma.peer"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _address(text: str) -> Address | None:
    """An address as a proxy writes it, or None.

    Some proxies add the client's port (``192.0.2.1:4711``, ``[2001:db8::1]:4711``);
    IPv4-mapped IPv6 (``::ffff:192.0.2.1``) is the IPv4 address it maps.
    """
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def within(text: str | None, networks: Iterable[Network]) -> bool:
    """True when ``text`` is an address inside one of ``networks``."""
    address = _address(text or "")
    return address is not None and any(address in network for network in networks)


class ClientAddress:
    """Sets ``REMOTE_ADDR`` to the client's address, believing only trusted proxies."""

    def __init__(self, app: WSGIApplication, trusted: Iterable[Network]) -> None:
        self.app = app
        self.trusted = tuple(trusted)
        # Peers, hops and clients repeat: each spelling is parsed and matched once.
        self._hop = lru_cache(maxsize=4096)(self._parse)

    def _parse(self, text: str) -> tuple[str, bool] | None:
        """A hop as ``(address, trusted)``, or None when it is not an address."""
        address = _address(text)
        if address is None:
            return None
        return str(address), any(address in network for network in self.trusted)

    def client(self, peer: str, forwarded_for: str | None) -> str:
        """The client of a request from ``peer`` that carried ``forwarded_for``."""
        if not forwarded_for:
            return peer
        hop = self._hop(peer)
        if hop is None or not hop[1]:
            return peer
        client = peer
        for text in reversed(forwarded_for.split(",")):
            hop = self._hop(text)
            if hop is None:
                # A trusted proxy wrote something that is not an address: nothing to its
                # left can be believed, so the last trusted hop stands for the client.
                break
            client, trusted = hop
            if not trusted:
                break
        return client

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        peer = environ.get("REMOTE_ADDR", "")
        environ[PEER] = peer
        environ["REMOTE_ADDR"] = self.client(peer, environ.get("HTTP_X_FORWARDED_FOR"))
        return self.app(environ, start_response)


def init_app(app: Flask) -> None:
    """Wrap the app in the resolution, when it has proxies to trust."""
    trusted = trusted_proxies(app.config.get("TRUSTED_PROXIES") or ())
    if trusted:
        app.wsgi_app = ClientAddress(app.wsgi_app, trusted)  # type: ignore[method-assign]
