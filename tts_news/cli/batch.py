"""`tts-news batch DIR -o OUTDIR`: a folder of the day's stories → one episode each (+ a bulletin).

Resumable: OUTDIR/.tts-news-batch.json records each finished article with a digest of its text and
voice, so a second run skips what is done (and redoes what changed); every file lands by rename, so
an interrupted run leaves nothing half-written. A bad file is reported and skipped, never fatal.
With TTS_NEWS_REDIS_URL set the articles go to the workers as jobs instead.
"""

from __future__ import annotations

import logging
import sys
import time
from datetime import date
from pathlib import Path

from tts_news.audio.sidecars import EPISODE_FILES
from tts_news.cli.manifest import Manifest, digest_of
from tts_news.core.config import Settings
from tts_news.core.errors import NewsError, NotFound, UserError
from tts_news.core.files import copy_atomic
from tts_news.jobs.library import Library
from tts_news.jobs.service import Service
from tts_news.render.renderer import Renderer
from tts_news.text.article import Article, Outcome, parse_since, read_articles
from tts_news.text.normalize import TextWarning
from tts_news.text.sources import read_feed_articles
from tts_news.voice.catalog import get_voice
from tts_news.voice.install import choose_voice

log = logging.getLogger(__name__)

POLL_S = 0.5


class CharBar:
    """Progress over the articles' characters (a fair measure of work), with an ETA: a live bar on a
    terminal, and a line per finished article in a log (cron, CI), where a bar would be noise."""

    def __init__(self, total: int, articles: int = 0) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, desc="batch", unit="char", unit_scale=True, file=sys.stderr, disable=None,
                        dynamic_ncols=True)
        self.base = 0
        self.articles, self.finished = articles, 0
        self.started = time.monotonic()

    def within(self, article: Article, fraction: float) -> None:
        self.bar.update(self.base + int(len(article.text) * fraction) - self.bar.n)

    def finish(self, article: Article) -> None:
        self.base += len(article.text)
        self.within(article, 0)
        self.finished += 1
        if self.bar.disable:
            elapsed = time.monotonic() - self.started
            left = elapsed / self.base * (self.bar.total - self.base) if self.base else 0.0
            print(f"batch [{self.finished}/{self.articles}] {article.path.name}: {elapsed:.0f} s so far, "
                  f"ETA {left:.0f} s", file=sys.stderr, flush=True)

    def label(self, name: str) -> None:
        self.bar.set_postfix_str(name, refresh=True)

    def close(self) -> None:
        self.bar.close()


def _warning_lines(warnings) -> list[str]:
    """Warnings as manifest and summary lines, whether they come as objects or as job-record dicts."""
    return [str(TextWarning.from_dict(w) if isinstance(w, dict) else w) for w in warnings]


def _publish(library, article: Article, out: Path, manifest: Manifest, episode: dict) -> None:
    job = library.import_episode(out / f"{article.stem}.mp3", text=article.text, title=episode["title"],
                                 voice=episode["voice"], duration=episode["duration"],
                                 chapters=episode["chapters"], warnings=[TextWarning.notice(w).as_dict()
                                                                         for w in episode["warnings"]],
                                 job_id=manifest.entry(article.stem).get("job_id"), source_url=article.source_url)
    manifest.record(article.stem, job_id=job.id, published_digest=article.digest)


def render_here(todo: list[Article], voice, out: Path, settings: Settings, manifest: Manifest) -> list[Outcome]:
    renderer = Renderer(voice, settings)
    bar = CharBar(sum(len(a.text) for a in todo), len(todo))
    outcomes = []
    try:
        for article in todo:
            bar.label(article.path.name)
            try:
                script = renderer.prepare(article.text)
                episode = renderer.episode(script, out / f"{article.stem}.mp3",
                                           progress=lambda done, total, a=article: bar.within(a, done / total))
            except NewsError as err:
                outcomes.append(Outcome(article.path.name, "failed", str(err)))
                continue
            except Exception as err:  # one broken article must not stop the newsroom's run
                log.exception("%s failed", article.path)
                outcomes.append(Outcome(article.path.name, "failed", f"{type(err).__name__}: {err}"))
                continue
            finally:
                bar.finish(article)
            warnings = _warning_lines(episode.warnings)
            manifest.record(article.stem, digest=article.digest, status="done", title=episode.title,
                            voice=voice.name, duration=round(episode.duration, 3), chapters=episode.chapters,
                            warnings=warnings)
            outcomes.append(Outcome(article.path.name, "rendered", f"{episode.duration:.1f} s", warnings))
    finally:
        bar.close()
    return outcomes


def render_on_workers(todo: list[Article], voice_name: str | None, out: Path, settings: Settings,
                      manifest: Manifest, publish: bool) -> list[Outcome]:
    """Queue each article as a job for the workers (a job queued by an interrupted run is waited for,
    not queued twice), then copy each finished episode into OUTDIR."""
    queue = Service(settings)
    waiting: dict[str, Article] = {}
    refused: list[Outcome] = []
    for article in todo:
        entry = manifest.entry(article.stem)
        job_id = entry.get("job_id") if entry.get("digest") == article.digest else None
        try:
            if job_id and queue.library.get(job_id).status != "failed":
                waiting[job_id] = article
                continue
        except NotFound:
            pass
        try:
            job = queue.submit(article.text, voice=voice_name, source="batch", published=publish,
                               source_url=article.source_url)
        except NewsError as err:  # nothing to say, a full queue or disk: this article, not the run
            manifest.record(article.stem, digest=article.digest, status="failed")
            refused.append(Outcome(article.path.name, "failed", str(err)))
            continue
        manifest.record(article.stem, digest=article.digest, job_id=job.id, status="queued")
        waiting[job.id] = article

    bar = CharBar(sum(len(a.text) for a in todo), len(todo))
    outcomes = refused
    try:
        while waiting:
            for job_id, article in list(waiting.items()):
                job = queue.library.get(job_id)
                if job.total:
                    bar.within(article, job.done / job.total)
                if job.status not in ("done", "failed"):
                    continue
                del waiting[job_id]
                bar.finish(article)
                if job.status == "failed":
                    manifest.record(article.stem, status="failed")
                    outcomes.append(Outcome(article.path.name, "failed", job.error or "failed"))
                    continue
                for suffix in EPISODE_FILES:
                    copy_atomic(queue.library.episode_path(job_id, suffix), out / f"{article.stem}{suffix}")
                warnings = _warning_lines(job.warnings)
                manifest.record(article.stem, status="done", title=job.title, voice=job.voice,
                                duration=round(job.duration or 0, 3), chapters=job.chapters, warnings=warnings)
                outcomes.append(Outcome(article.path.name, "rendered", f"{job.duration:.1f} s on the workers",
                                        warnings))
            if waiting:
                time.sleep(POLL_S)
    finally:
        bar.close()
    return outcomes


def make_bulletin(articles: list[Article], voice, out: Path, settings: Settings, manifest: Manifest,
                  day: date) -> tuple[Path, str]:
    path = out / f"bulletin-{day.isoformat()}.mp3"
    digest = digest_of([a.digest for a in articles], day.isoformat(), settings.show_title, voice.name)
    done = manifest.data["bulletins"].get(path.name, {})
    if done.get("digest") == digest and path.exists():
        return path, f"{path}: up to date ({done.get('chapters')} chapters), skipped"
    renderer = Renderer(voice, settings)
    stories = [renderer.prepare(a.text) for a in articles]
    bar = None

    def progress(n: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            from tqdm import tqdm

            bar = tqdm(total=total, desc="bulletin", unit="sentence", file=sys.stderr, disable=None)
        bar.update(n - bar.n)

    episode = renderer.bulletin(stories, path, day=day, progress=progress)
    if bar is not None:
        bar.close()
    manifest.data["bulletins"][path.name] = {"digest": digest, "chapters": episode.chapters,
                                             "duration": round(episode.duration, 3), "title": episode.title}
    manifest.save()
    return path, f"{path}: {episode.duration:.1f} s, {episode.chapters} chapters ({len(articles)} stories)"


def cmd_batch(args, settings: Settings) -> int:
    out = Path(args.output)
    feeds = args.feed or ([] if args.dir else settings.feeds.split())
    if args.dir and args.feed:
        raise UserError("give a folder of articles or --feed addresses, not both")
    if feeds:
        out.mkdir(parents=True, exist_ok=True)
        articles, outcomes = read_feed_articles(feeds, parse_since(args.since), settings)
        if not articles and not outcomes:
            print(f"tts-news: no feed item in the last {args.since}", file=sys.stderr)
    else:
        if not args.dir:
            raise UserError("give a folder of articles, or --feed URL (or set TTS_NEWS_FEEDS)")
        folder = Path(args.dir)
        if not folder.is_dir():
            raise UserError(f"{folder}: not a folder of articles")
        out.mkdir(parents=True, exist_ok=True)
        articles, outcomes = read_articles(folder, settings.max_article_chars)
        if not articles and not outcomes:
            raise UserError(f"{folder}: no .txt or .md articles")
    notice = lambda m: print(f"tts-news: {m}", file=sys.stderr)  # noqa: E731
    on_workers = bool(settings.redis_url)
    # On workers, the workers pick the voice; here, the voice that will really speak.
    voice = get_voice(settings, args.voice or settings.voice) if on_workers else choose_voice(
        settings, args.voice, notice=notice)
    for a in articles:
        a.digest = digest_of(a.text, voice.name, voice.version)
    manifest = Manifest(out)
    todo = [a for a in articles if not manifest.finished(a, out)]
    outcomes += [Outcome(a.path.name, "skipped", "done in an earlier run", manifest.entry(a.stem).get("warnings", []))
                 for a in articles if a not in todo]
    if todo:
        print(f"tts-news: {len(todo)} of {len(articles)} articles to render"
              f"{' on the workers' if on_workers else ''} with {voice.name}", file=sys.stderr)
        if on_workers:
            outcomes += render_on_workers(todo, args.voice, out, settings, manifest, args.publish)
        else:
            outcomes += render_here(todo, voice, out, settings, manifest)
    if args.publish and not on_workers:
        library = Library(settings.data_dir, settings.job_lease_s)
        for a in articles:
            entry = manifest.entry(a.stem)
            if manifest.finished(a, out) and entry.get("published_digest") != a.digest:
                _publish(library, a, out, manifest, entry)

    good = [a for a in articles if manifest.finished(a, out)]
    bulletin_line = ""
    if args.bulletin:
        if good:
            if on_workers:
                voice = choose_voice(settings, args.voice, notice=notice)
            try:
                day = date.fromisoformat(args.date) if args.date else date.today()
            except ValueError as err:
                raise UserError(f"--date {args.date!r}: give the day as YYYY-MM-DD") from err
            _, bulletin_line = make_bulletin(good, voice, out, settings, manifest, day)
        else:
            bulletin_line = "no bulletin: no article was rendered"

    print("\nsummary:")
    for o in sorted(outcomes, key=lambda o: o.name):
        mark = {"rendered": "✓", "skipped": "·", "failed": "✗"}[o.status]
        print(f" {mark} {o.name}: {o.status}" + (f" — {o.detail}" if o.detail else "")
              + (f", {len(o.warnings)} warnings" if o.warnings else ""))
        for w in o.warnings:
            print(f"     warning: {w}")
    counts = {s: sum(o.status == s for o in outcomes) for s in ("rendered", "skipped", "failed")}
    print(f"{len(outcomes)} files: {counts['rendered']} rendered, {counts['skipped']} skipped, "
          f"{counts['failed']} failed; episodes in {out}")
    if bulletin_line:
        print(f"bulletin: {bulletin_line}")
    return 1 if counts["failed"] else 0


def add_command(sub) -> None:
    p = sub.add_parser("batch", help="one episode per article file in a folder or item of news feeds "
                                     "(resumable), and a bulletin")
    p.add_argument("dir", nargs="?", help="folder of .txt / .md articles (first line: the title)")
    p.add_argument("--feed", action="append", metavar="URL",
                   help="an RSS or Atom feed whose recent items to render (repeatable; default TTS_NEWS_FEEDS)")
    p.add_argument("--since", default="24h", help="with --feed: items published within this long (default 24h)")
    p.add_argument("-o", "--output", required=True, help="folder for the episodes")
    p.add_argument("--voice", help="voice name (see: tts-news voices)")
    p.add_argument("--bulletin", action="store_true",
                   help="also one combined bulletin MP3: opening with the date, a chapter per story, closing")
    p.add_argument("--date", help="the bulletin's date, YYYY-MM-DD (default: today)")
    p.add_argument("--publish", action="store_true", help="add the episodes to the library and its podcast feed")
    p.set_defaults(func=cmd_batch)
