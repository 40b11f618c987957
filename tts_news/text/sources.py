"""Articles from the web: the article in a fetched page (trafilatura), and the stories of news feeds
(feedparser), each page fetched through the guarded client (`tts_news.core.http`)."""

from __future__ import annotations

import calendar
import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

from tts_news.core.config import Settings
from tts_news.core.errors import UserError
from tts_news.core.http import FEED_TYPES, Fetched, NotAnArticle, fetch
from tts_news.text.article import Article, Outcome

MIN_ARTICLE_CHARS = 40  # less than a sentence of text: a page of links and furniture, not a story


@dataclass(frozen=True)
class WebArticle:
    url: str
    title: str
    text: str  # title line, then a paragraph per line: the form every article takes here


def extract(page: Fetched) -> WebArticle:
    """The article in a page: its title and paragraphs; navigation, captions and credits left out."""
    import trafilatura

    doc = trafilatura.bare_extraction(page.body, url=page.url, include_comments=False, include_tables=False,
                                      include_images=False, include_links=False, favor_precision=True,
                                      with_metadata=True)
    text = (doc.text if doc is not None else "") or ""
    title = ((doc.title if doc is not None else "") or "").strip()
    paragraphs = [line.strip() for line in text.splitlines() if line.strip()]
    if paragraphs and title and paragraphs[0] == title:
        paragraphs = paragraphs[1:]
    if sum(len(p) for p in paragraphs) < MIN_ARTICLE_CHARS:
        raise NotAnArticle(f"{page.url} has no article text that could be found")
    return WebArticle(page.url, title, "\n".join([title, *paragraphs] if title else paragraphs))


def article_from_url(url: str, settings: Settings) -> WebArticle:
    return extract(fetch(url, settings))


def read_feed_articles(urls: list[str], since_s: float, settings: Settings,
                       now: float | None = None) -> tuple[list[Article], list[Outcome]]:
    """The items of RSS/Atom feeds published within `since_s`, newest first, each page fetched (guarded)
    and its article extracted; a feed or page that fails is reported, the rest go on."""
    import feedparser

    cutoff = (now or time.time()) - since_s
    found: dict[str, tuple[float, str]] = {}
    bad: list[Outcome] = []
    for url in urls:
        try:
            page = fetch(url, settings, accept=FEED_TYPES)
        except UserError as err:
            bad.append(Outcome(url, "failed", str(err)))
            continue
        parsed = feedparser.parse(page.body)
        if not parsed.entries and parsed.get("bozo"):
            bad.append(Outcome(url, "failed", f"not a readable RSS or Atom feed ({parsed.get('bozo_exception')})"))
            continue
        for entry in parsed.entries:
            stamp = entry.get("published_parsed") or entry.get("updated_parsed")
            link = entry.get("link")
            if not link or stamp is None:
                continue
            when = calendar.timegm(stamp)
            if when >= cutoff:
                found.setdefault(urljoin(page.url, link), (when, entry.get("title", "")))
    articles = []
    for link, (when, _) in sorted(found.items(), key=lambda kv: -kv[1][0]):
        # A stable name per item: its time, then a digest of its address (a re-run finds it in the manifest).
        name = time.strftime("%Y%m%d-%H%M", time.gmtime(when)) + "-" + hashlib.sha1(link.encode()).hexdigest()[:8]
        try:
            article = article_from_url(link, settings)
        except UserError as err:
            bad.append(Outcome(name, "failed", f"{link}: {err}"))
            continue
        articles.append(Article(Path(f"{name}.txt"), article.text, source_url=article.url))
    return articles, bad
