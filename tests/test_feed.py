"""The podcast feed, read by the parsers podcast apps use (feedparser, podcastparser)."""

from __future__ import annotations

import io
import uuid
import xml.etree.ElementTree as ET

import feedparser
import podcastparser
import pytest
from conftest import wait_for_job
from PIL import Image

ARTICLE = "بجٹ کی خبر\nحکومت نے 5 کھرب روپے کا بجٹ پیش کیا۔ اجلاس کل بھی جاری رہے گا۔"
NS = {"itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd", "podcast": "https://podcastindex.org/namespace/1.0",
      "atom": "http://www.w3.org/2005/Atom"}


@pytest.fixture
def published(client, worker):
    job_id = client.post("/api/jobs", json={"text": ARTICLE, "voice": "espeak-urdu"}).get_json()["id"]
    assert wait_for_job(worker.library, job_id).status == "done"
    return job_id


def path_of(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def test_the_feed_parses_cleanly_with_both_parsers(client, published):
    response = client.get("/feed.xml")
    assert response.status_code == 200 and response.content_type == "application/rss+xml; charset=utf-8"
    parsed = feedparser.parse(response.data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    assert parsed.feed.language == "ur" and parsed.feed.title == "اردو خبریں"
    assert parsed.feed.itunes_explicit is not True  # "false", which feedparser leaves as None
    assert [t.term for t in parsed.feed.tags] == ["News", "Daily News"]
    assert parsed.feed.podcast_locked == {"owner": "news@example.com"}
    entry = parsed.entries[0]
    assert entry.title == "بجٹ کی خبر" and entry.id == f"urn:uuid:{published}"
    assert entry.podcast_transcript["type"] == "text/vtt" and entry.podcast_transcript["language"] == "ur"
    assert entry.podcast_chapters["type"] == "application/json+chapters"

    podcast = podcastparser.parse("http://localhost/feed.xml", io.BytesIO(response.data))
    assert podcast["title"] == "اردو خبریں" and podcast["language"] == "ur"
    # podcastparser 0.6.11 knows the podcast namespace only by its old GitHub URI, not the official
    # https://podcastindex.org/namespace/1.0 the feed declares; feedparser (above) reads those tags.
    assert podcast["itunes_categories"] == [["News", "Daily News"]]
    assert podcast["itunes_owner"] == {"name": "tts-news", "email": "news@example.com"}
    (episode,) = podcast["episodes"]
    assert episode["guid"] == f"urn:uuid:{published}"
    assert episode["total_time"] == round(client.get(f"/api/jobs/{published}").get_json()["episode"]["duration"])
    assert episode["enclosures"][0]["mime_type"] == "audio/mpeg"


def test_channel_and_item_tags(client, published):
    rss = ET.fromstring(client.get("/feed.xml").data)
    ch = rss.find("channel")
    assert ch.findtext("language") == "ur" and ch.findtext("link") == "http://localhost/"
    assert ch.find("atom:link", NS).attrib == {"href": "http://localhost/feed.xml", "rel": "self",
                                               "type": "application/rss+xml"}
    assert ch.findtext("itunes:explicit", namespaces=NS) == "false"
    assert ch.findtext("itunes:author", namespaces=NS) == "tts-news"
    assert ch.findtext("itunes:owner/itunes:email", namespaces=NS) == "news@example.com"
    guid = uuid.uuid5(uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6"), "localhost/feed.xml")
    assert ch.findtext("podcast:guid", namespaces=NS) == str(guid)
    assert ch.findtext("podcast:locked", namespaces=NS) == "yes"
    item = ch.find("item")
    assert item.find("guid").attrib["isPermaLink"] == "false"
    assert item.findtext("pubDate").endswith(" +0000")  # RFC 2822, UTC
    transcripts = {t.attrib["type"]: t.attrib["url"] for t in item.findall("podcast:transcript", NS)}
    assert set(transcripts) == {"text/vtt", "application/json"}
    assert transcripts["application/json"].split("?")[0].endswith(".transcript.json")
    assert item.find("podcast:chapters", NS).attrib["type"] == "application/json+chapters"
    assert int(item.findtext("itunes:duration", namespaces=NS)) > 0


def test_the_cover_is_a_served_square_image_of_podcast_size(client, published):
    rss = ET.fromstring(client.get("/feed.xml").data)
    href = rss.find("channel/itunes:image", NS).attrib["href"]
    response = client.get(path_of(href))
    assert response.status_code == 200
    image = Image.open(io.BytesIO(response.data))
    assert image.width == image.height and 1400 <= image.width <= 3000
    assert response.content_type == {"JPEG": "image/jpeg", "PNG": "image/png"}[image.format]
    assert href.endswith({"JPEG": ".jpg", "PNG": ".png"}[image.format])


def test_every_enclosure_length_is_the_served_files_size(client, worker, published):
    second = client.post("/api/jobs", json={"text": ARTICLE + "\nایک اور جملہ۔", "voice": "espeak-urdu"})
    wait_for_job(worker.library, second.get_json()["id"])
    rss = ET.fromstring(client.get("/feed.xml").data)
    items = rss.findall("channel/item")
    assert len(items) == 2
    for item in items:
        enclosure = item.find("enclosure")
        served = client.get(path_of(enclosure.attrib["url"]))
        assert served.status_code == 200
        assert int(enclosure.attrib["length"]) == len(served.data)


def test_transcripts_and_chapters_are_served_with_cors(client, published):
    item = ET.fromstring(client.get("/feed.xml").data).find("channel/item")
    links = [(t.attrib["url"], t.attrib["type"]) for t in item.findall("podcast:transcript", NS)]
    links.append((item.find("podcast:chapters", NS).attrib["url"], "application/json+chapters"))
    assert len(links) == 3
    for url, kind in links:
        response = client.get(path_of(url), headers={"Origin": "https://player.example"})
        assert response.status_code == 200 and response.content_type.startswith(kind)
        assert response.headers["Access-Control-Allow-Origin"] == "*"
    segments = client.get(path_of(links[0][0])).get_json()["segments"]
    assert segments and all({"startTime", "endTime", "body", "paragraph"} <= set(s) for s in segments)


def test_an_items_guid_and_date_stay_when_its_audio_is_rendered_again(client, worker, published):
    before = ET.fromstring(client.get("/feed.xml").data).find("channel/item")
    client.post(f"/api/jobs/{published}/render")
    wait_for_job(worker.library, published)
    after = ET.fromstring(client.get("/feed.xml").data).find("channel/item")
    assert after.findtext("guid") == before.findtext("guid")
    assert after.findtext("pubDate") == before.findtext("pubDate")
    assert after.find("enclosure").attrib["url"] != before.find("enclosure").attrib["url"]


def test_the_show_guid_is_fixed_once_made_and_the_public_url_is_used(settings, client, published):
    from tts_news.core.config import Settings
    from tts_news.jobs.service import Service
    from tts_news.web import create_app

    first = ET.fromstring(client.get("/feed.xml").data).findtext("channel/podcast:guid", namespaces=NS)
    moved = Settings.from_env(public_url="https://news.example.org/")
    feed = create_app(moved, queue=Service(moved)).test_client().get("/feed.xml").data
    channel = ET.fromstring(feed).find("channel")
    assert channel.find("atom:link", NS).attrib["href"] == "https://news.example.org/feed.xml"
    assert channel.find("item/enclosure").attrib["url"].startswith("https://news.example.org/episodes/")
    assert channel.findtext("podcast:guid", namespaces=NS) == first


def test_show_details_come_from_settings(settings):
    from tts_news.core.config import Settings
    from tts_news.jobs.service import Service
    from tts_news.web import create_app

    custom = Settings.from_env(show_title="شام کی خبریں", show_author="نیوز روم", show_owner_email="desk@news.pk",
                               show_description="روزانہ کا خبرنامہ")
    feed = podcastparser.parse("http://x/feed.xml", io.BytesIO(
        create_app(custom, queue=Service(custom)).test_client().get("/feed.xml").data))
    assert (feed["title"], feed["description"], feed["itunes_author"], feed["itunes_owner"]["email"]) == (
        "شام کی خبریں", "روزانہ کا خبرنامہ", "نیوز روم", "desk@news.pk")
