"""Pages from the web, fetched guarded (the articles in them: `tts_news.text.sources`).

The fetch takes only http(s); every connection is checked on the address it actually connected to (so a
name that resolves to 127.0.0.1, or re-resolves between check and use, is still refused), on every
redirect, unless TTS_NEWS_FETCH_ALLOW_PRIVATE=1. Size, time and redirects are bounded; a page must be
HTML (a feed must be XML). Errors say what went wrong in English for the API and in Urdu for the page.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from tts_news.core.config import Settings
from tts_news.core.errors import UserError

MAX_BYTES = 5 * 2**20
CONNECT_TIMEOUT_S = 5.0
MAX_REDIRECTS = 5
USER_AGENT = "tts-news/0.1 (Urdu news to audio; +https://github.com/tts-news)"
HTML_TYPES = ("text/html", "application/xhtml+xml")
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/xml", "text/xml", "application/rdf+xml",
              "application/feed+json")


class FetchError(UserError):
    code = "fetch_failed"
    urdu = "یہ صفحہ حاصل نہیں ہو سکا۔"

    def __init__(self, message: str, urdu: str | None = None) -> None:
        super().__init__(message)
        if urdu:
            self.urdu = urdu


class AddressNotAllowed(FetchError):
    code = "address_not_allowed"
    urdu = "یہ پتہ اجازت یافتہ نہیں: صرف عام ویب سائٹس کے http یا https پتے دیے جا سکتے ہیں۔"


class NotAnArticle(FetchError):
    code = "not_an_article"
    urdu = "اس صفحے میں کوئی خبر نہیں ملی۔"


class FetchTooLarge(FetchError):
    code = "too_large"
    urdu = "یہ صفحہ بہت بڑا ہے۔"


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    content_type: str
    body: bytes


def check_address(address: str, allow_private: bool) -> None:
    """Refuse loopback, private, link-local, multicast, reserved and unspecified addresses."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if allow_private:
        return
    if not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local:
        raise AddressNotAllowed(f"{address} is not a public internet address; fetching it is not allowed")


def _pool_manager(allow_private: bool, timeout_s: float):
    import urllib3
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    def guard(sock) -> None:
        try:
            check_address(sock.getpeername()[0], allow_private)
        except AddressNotAllowed:
            sock.close()
            raise

    class GuardedHTTP(HTTPConnection):
        def _new_conn(self):
            sock = super()._new_conn()
            guard(sock)
            return sock

    class GuardedHTTPS(HTTPSConnection):
        def _new_conn(self):
            sock = super()._new_conn()
            guard(sock)
            return sock

    class HTTPPool(HTTPConnectionPool):
        ConnectionCls = GuardedHTTP

    class HTTPSPool(HTTPSConnectionPool):
        ConnectionCls = GuardedHTTPS

    manager = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=min(CONNECT_TIMEOUT_S, timeout_s),
                                                                          read=timeout_s))
    manager.pool_classes_by_scheme = {"http": HTTPPool, "https": HTTPSPool}
    return manager


def _checked_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AddressNotAllowed(f"{url!r} is not an http(s) address", urdu="پتہ http:// یا https:// سے شروع ہونا چاہیے۔")
    if parts.username or parts.password:
        raise AddressNotAllowed("addresses with a user name or password are not fetched")
    return url


def fetch(url: str, settings: Settings, accept: tuple[str, ...] = HTML_TYPES, max_bytes: int = MAX_BYTES) -> Fetched:
    """GET `url` within the limits; the body of the final response after at most MAX_REDIRECTS hops."""
    import urllib3

    manager = _pool_manager(settings.fetch_allow_private, settings.fetch_timeout_s)
    deadline = time.monotonic() + settings.fetch_timeout_s
    url = _checked_url(url)
    for _ in range(MAX_REDIRECTS + 1):
        try:
            response = manager.request("GET", url, redirect=False, preload_content=False,
                                       headers={"User-Agent": USER_AGENT, "Accept": ", ".join(accept)})
        except AddressNotAllowed:
            raise
        except urllib3.exceptions.HTTPError as err:
            reason = getattr(err, "reason", None) or err
            if isinstance(reason, AddressNotAllowed):
                raise reason from err
            raise FetchError(f"could not fetch {url}: {reason}") from err
        try:
            if response.status in (301, 302, 303, 307, 308):
                location = response.headers.get("Location")
                if not location:
                    raise FetchError(f"{url} redirects without saying where to")
                url = _checked_url(urljoin(url, location))
                continue
            if response.status >= 400:
                raise FetchError(f"{url} answered HTTP {response.status}",
                                 urdu=f"ویب سائٹ نے جواب دیا: {response.status}۔")
            content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if content_type not in accept:
                raise NotAnArticle(f"{url} is {content_type or 'of no stated type'}, not "
                                   f"{' or '.join(accept[:2])}",
                                   urdu="یہ ویب صفحہ نہیں (مثلاً تصویر یا فائل)۔")
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise FetchTooLarge(f"{url} is {int(declared):,} bytes; the limit is {max_bytes:,}")
            body = bytearray()
            for chunk in response.stream(64 * 1024):
                body += chunk
                if len(body) > max_bytes:
                    raise FetchTooLarge(f"{url} is larger than {max_bytes:,} bytes")
                if time.monotonic() > deadline:
                    raise FetchError(f"{url} took more than {settings.fetch_timeout_s:g} s to arrive",
                                     urdu="ویب سائٹ نے بہت دیر لگائی۔")
            return Fetched(url, content_type, bytes(body))
        except urllib3.exceptions.HTTPError as err:
            raise FetchError(f"could not read {url}: {err}") from err
        finally:
            response.release_conn()
    raise FetchError(f"more than {MAX_REDIRECTS} redirects", urdu="بہت زیادہ ری ڈائریکٹ۔")
