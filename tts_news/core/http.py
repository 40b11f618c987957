"""The one HTTP client for every outbound request (article pages, news feeds, voice downloads), guarded.

Only http(s) is fetched. The host's name is resolved here and every address it gives is checked before
any is used; the connection is then made to a checked address itself (urllib3's public connection pools,
with the name kept for the Host header, TLS SNI and certificate checks), so a name that resolves to
127.0.0.1, or re-resolves between check and use, is still refused. Each redirect is a new hop, checked
the same way. Loopback, private, link-local and other non-public addresses are refused unless
TTS_NEWS_FETCH_ALLOW_PRIVATE=1. Size, time and redirects are bounded. Errors say what went wrong in English
for the API and in Urdu for the page.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import SplitResult, urljoin, urlsplit

import urllib3
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from tts_news.core.config import Settings
from tts_news.core.errors import UserError

MAX_BYTES = 5 * 2**20
CONNECT_TIMEOUT_S = 5.0
DOWNLOAD_READ_TIMEOUT_S = 60.0  # a download may take minutes in all, but a server silent this long has stalled
MAX_REDIRECTS = 5
CHUNK = 1 << 16
USER_AGENT = "tts-news/0.1 (Urdu news to audio; +https://github.com/tts-news)"
HTML_TYPES = ("text/html", "application/xhtml+xml")
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/xml", "text/xml", "application/rdf+xml",
              "application/feed+json")
REDIRECTS = (301, 302, 303, 307, 308)
DEFAULT_PORTS = {"http": 80, "https": 443}

DownloadProgress = Callable[[int, int | None], None]  # (bytes so far, total or None)


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


class FetchInterrupted(FetchError):
    """The server promised `total` bytes and stopped after `done`."""

    def __init__(self, url: str, done: int, total: int) -> None:
        super().__init__(f"{url} stopped after {done} of {total} bytes")
        self.done, self.total = done, total


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


def _checked_url(url: str) -> SplitResult:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AddressNotAllowed(f"{url!r} is not an http(s) address", urdu="پتہ http:// یا https:// سے شروع ہونا چاہیے۔")
    if parts.username or parts.password:
        raise AddressNotAllowed("addresses with a user name or password are not fetched")
    _port(parts)  # a bad port is refused here, before any name is looked up
    return parts


def _port(parts: SplitResult) -> int:
    try:
        return parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError as err:  # urlsplit reads the port only when asked
        raise FetchError(f"{parts.geturl()!r} has a bad port number") from err


def _addresses(parts: SplitResult, allow_private: bool) -> list[str]:
    """Every address the URL's host resolves to, each checked (one refused address refuses the host)."""
    try:
        found = socket.getaddrinfo(parts.hostname, _port(parts), type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as err:
        raise FetchError(f"could not fetch {parts.geturl()}: {parts.hostname} was not found ({err})",
                         urdu="ویب سائٹ کا نام نہیں ملا۔") from err
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    for address in addresses:
        check_address(address, allow_private)
    return addresses


def _pool(parts: SplitResult, address: str, timeout: urllib3.Timeout) -> HTTPConnectionPool:
    """A connection pool to one checked address that speaks to it as the URL's host."""
    port = _port(parts)
    if parts.scheme == "https":
        return HTTPSConnectionPool(address, port, timeout=timeout, retries=False, maxsize=1,
                                   server_hostname=parts.hostname, assert_hostname=parts.hostname)
    return HTTPConnectionPool(address, port, timeout=timeout, retries=False, maxsize=1)


@contextmanager
def _get(parts: SplitResult, settings: Settings, accept: str,
         timeout: urllib3.Timeout) -> Iterator[urllib3.BaseHTTPResponse]:
    """One GET of one hop (no redirect followed), on the first of the host's checked addresses that
    answers; the response's body unread. Its connection and pool are closed when the block ends."""
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"
    headers = {"Host": parts.netloc, "User-Agent": USER_AGENT, "Accept": accept}
    failure: Exception | None = None
    for address in _addresses(parts, settings.fetch_allow_private):
        pool = _pool(parts, address, timeout)
        try:
            response = pool.urlopen("GET", target, headers=headers, redirect=False, retries=False,
                                    preload_content=False, assert_same_host=False)
        except (NewConnectionError, ConnectTimeoutError) as err:  # this address does not answer: the next one
            pool.close()
            failure = err
            continue
        except urllib3.exceptions.HTTPError as err:
            pool.close()
            raise FetchError(f"could not fetch {parts.geturl()}: {err}") from err
        try:
            yield response
        finally:
            response.close()
            pool.close()
        return
    raise FetchError(f"could not fetch {parts.geturl()}: {failure}")


@contextmanager
def _open(url: str, settings: Settings, accept: str,
          read_timeout_s: float) -> Iterator[tuple[str, urllib3.BaseHTTPResponse]]:
    """The final response to GET `url` (its address after redirects, and the response with its body
    unread), each hop's host checked; a 4xx/5xx answer or too many redirects is a FetchError."""
    timeout = urllib3.Timeout(connect=min(CONNECT_TIMEOUT_S, read_timeout_s), read=read_timeout_s)
    parts = _checked_url(url)
    for _ in range(MAX_REDIRECTS + 1):
        with _get(parts, settings, accept, timeout) as response:
            if response.status in REDIRECTS:
                location = response.headers.get("Location")
                if not location:
                    raise FetchError(f"{parts.geturl()} redirects without saying where to")
                parts = _checked_url(urljoin(parts.geturl(), location))
                continue
            if response.status >= 400:
                raise FetchError(f"{parts.geturl()} answered HTTP {response.status}",
                                 urdu=f"ویب سائٹ نے جواب دیا: {response.status}۔")
            yield parts.geturl(), response
            return
    raise FetchError(f"more than {MAX_REDIRECTS} redirects", urdu="بہت زیادہ ری ڈائریکٹ۔")


def _declared_length(response: urllib3.BaseHTTPResponse) -> int | None:
    declared = response.headers.get("Content-Length", "")
    return int(declared) if declared.isdigit() else None


def fetch(url: str, settings: Settings, accept: tuple[str, ...] = HTML_TYPES, max_bytes: int = MAX_BYTES) -> Fetched:
    """GET `url` within the limits: the body of the final response, of one of the `accept` types, after
    at most MAX_REDIRECTS hops, all of it within TTS_NEWS_FETCH_TIMEOUT_S."""
    deadline = time.monotonic() + settings.fetch_timeout_s
    with _open(url, settings, ", ".join(accept), settings.fetch_timeout_s) as (final, response):
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type not in accept:
            raise NotAnArticle(f"{final} is {content_type or 'of no stated type'}, not {' or '.join(accept[:2])}",
                               urdu="یہ ویب صفحہ نہیں (مثلاً تصویر یا فائل)۔")
        declared = _declared_length(response)
        if declared is not None and declared > max_bytes:
            raise FetchTooLarge(f"{final} is {declared:,} bytes; the limit is {max_bytes:,}")
        body = bytearray()
        try:
            for chunk in response.stream(CHUNK):
                body += chunk
                if len(body) > max_bytes:
                    raise FetchTooLarge(f"{final} is larger than {max_bytes:,} bytes")
                if time.monotonic() > deadline:
                    raise FetchError(f"{final} took more than {settings.fetch_timeout_s:g} s to arrive",
                                     urdu="ویب سائٹ نے بہت دیر لگائی۔")
        except urllib3.exceptions.HTTPError as err:
            raise FetchError(f"could not read {final}: {err}") from err
        return Fetched(final, content_type, bytes(body))


def download(url: str, dest: Path, settings: Settings, max_bytes: int, progress: DownloadProgress | None = None) -> int:
    """Stream `url` into the file `dest` (guarded like every fetch, of any type, with no limit on the
    time in all but DOWNLOAD_READ_TIMEOUT_S per read); `progress(done, total)` after each chunk. More
    than `max_bytes` (declared or read) is FetchTooLarge; fewer bytes than declared, FetchInterrupted.
    Returns the bytes written."""
    with _open(url, settings, "*/*", DOWNLOAD_READ_TIMEOUT_S) as (final, response):
        total = _declared_length(response)
        if total is not None and total > max_bytes:
            raise FetchTooLarge(f"{final} is {total:,} bytes; the limit is {max_bytes:,}")
        done = 0
        with open(dest, "wb") as out:
            try:
                for chunk in response.stream(CHUNK):
                    out.write(chunk)
                    done += len(chunk)
                    if done > max_bytes:
                        raise FetchTooLarge(f"{final} is larger than {max_bytes:,} bytes; stopped")
                    if progress:
                        progress(done, total)
            except urllib3.exceptions.HTTPError as err:
                if total is not None and done < total:
                    raise FetchInterrupted(final, done, total) from err
                raise FetchError(f"could not read {final}: {err}") from err
        if total is not None and done != total:
            raise FetchInterrupted(final, done, total)
        return done
