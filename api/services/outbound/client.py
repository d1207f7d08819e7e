"""Requests to subscribers' servers, refused when they would reach inside the network.

A webhook URL is checked when it is saved and again before every request, after DNS
resolution: the request then goes to the address that was checked (so a name that
resolves to a public address for the check and a private one for the request, DNS
rebinding, gets nowhere), redirects are never followed, and the answer is read up to a
cap within a total timeout.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3

SCHEMES = ("http", "https")
PRIVATE_REFUSED = "refused: private address (WEBHOOK_ALLOW_PRIVATE is off)"


class TargetRefused(ValueError):
    """The URL is not one a webhook may call; ``reason`` says why in a few words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str


@dataclass(frozen=True)
class Answer:
    """What one request got; ``retriable`` is False when trying again cannot help (the
    URL or its address is refused, whatever the receiver does)."""

    status: int | None
    body: str | None
    duration_ms: int
    error: str | None
    retriable: bool = True


def parse(url: str) -> Target:
    """Split a webhook URL, refusing anything but an absolute http(s) URL with a host."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TargetRefused("malformed URL") from None
    if parts.scheme.lower() not in SCHEMES:
        raise TargetRefused("scheme")
    if not parts.hostname or parts.username is not None or parts.password is not None:
        raise TargetRefused("malformed URL")
    if any(ch.isspace() for ch in url):
        raise TargetRefused("malformed URL")
    scheme = parts.scheme.lower()
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme, parts.hostname, port or (443 if scheme == "https" else 80), path)


def is_public(address: str) -> bool:
    """True for an address on the public internet (not loopback, private, link-local…)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return bool(ip.is_global and not ip.is_multicast and not ip.is_unspecified)


def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


def resolve(target: Target) -> list[str]:
    """Every address the host resolves to (the host itself when it is an address)."""
    literal = _literal(target.host)
    if literal is not None:
        return [literal]
    infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check(url: str, *, allow_private: bool) -> Target:
    """Refuse a URL whose host is (or resolves to) a non-public address.

    A name that does not resolve now is accepted: it is checked again before each request.
    """
    target = parse(url)
    if allow_private:
        return target
    try:
        addresses = resolve(target)
    except OSError:
        return target
    if not addresses or not all(is_public(a) for a in addresses):
        raise TargetRefused("private address")
    return target


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout: float,
    allow_private: bool,
    max_body: int,
) -> Answer:
    """POST ``body`` to ``url`` once: no redirects, no retries, at most ``timeout`` seconds."""
    started = time.monotonic()

    def answer(
        status: int | None, text: str | None, error: str | None, retriable: bool = True
    ) -> Answer:
        return Answer(status, text, int((time.monotonic() - started) * 1000), error, retriable)

    try:
        target = parse(url)
        addresses = resolve(target)
    except TargetRefused as refused:
        return answer(None, None, f"refused: {refused.reason}", retriable=False)
    except OSError as error:
        return answer(None, None, f"DNS: {error.strerror or type(error).__name__}")
    if not allow_private and not all(is_public(a) for a in addresses):
        return answer(None, None, PRIVATE_REFUSED, retriable=False)
    address = addresses[0]
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if ":" not in target.host else f"[{target.host}]"
    if target.port != default_port:
        host_header += f":{target.port}"
    pool_timeout = urllib3.Timeout(total=timeout)
    pool: urllib3.HTTPConnectionPool
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address,
            target.port,
            timeout=pool_timeout,
            retries=False,
            maxsize=1,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
        )
    else:
        pool = urllib3.HTTPConnectionPool(
            address, target.port, timeout=pool_timeout, retries=False, maxsize=1
        )
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers={**headers, "Host": host_header},
            redirect=False,
            retries=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            data = response.read(max_body) if max_body > 0 else b""
        finally:
            response.release_conn()
        return answer(response.status, data.decode("utf-8", "replace") or None, None)
    except urllib3.exceptions.NewConnectionError as error:  # a subclass of the timeout
        return answer(None, None, f"connection failed: {str(error.__cause__ or error)[:200]}")
    except urllib3.exceptions.TimeoutError:
        return answer(None, None, f"timed out after {timeout:g} s")
    except urllib3.exceptions.HTTPError as error:
        reason = getattr(error, "reason", None) or error
        return answer(None, None, f"{type(reason).__name__}: {str(reason)[:200]}")
    finally:
        pool.close()
