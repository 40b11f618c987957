"""`tts-news` command line: a thin front end over the pipeline. User errors → one line, exit 1."""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from pathlib import Path

from tts_news.cli import batch, bench, serve, worker
from tts_news.core.config import Settings
from tts_news.core.errors import NewsError, UserError
from tts_news.render.newsroom import normalizer_for
from tts_news.render.renderer import Renderer
from tts_news.text.article import read_article
from tts_news.text.sources import article_from_url
from tts_news.voice.catalog import all_voices, get_voice
from tts_news.voice.install import choose_voice, install_voice, pull_voice

log = logging.getLogger("tts_news")


def _progress_bar(desc: str, total: int | None = None, unit: str = "it"):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, unit_scale=unit == "B", file=sys.stderr,
                disable=None, dynamic_ncols=True)


def _download_progress(name: str):
    bar = None

    def update(done: int, total: int | None) -> None:
        nonlocal bar
        if bar is None:
            bar = _progress_bar(f"downloading {name}", total, "B")
        bar.update(done - bar.n)

    return update


def cmd_synth(args, settings: Settings) -> int:
    if re.match(r"https?://", args.input, re.I):  # a web page: its article, fetched and extracted
        article = article_from_url(args.input, settings)
        print(f"tts-news: {article.url}: {article.title or 'untitled'}", file=sys.stderr)
        text = article.text
    else:
        text = read_article(args.input, sys.stdin)
    voice = choose_voice(settings, args.voice, _download_progress(args.voice or settings.voice),
                         notice=lambda m: print(f"tts-news: {m}", file=sys.stderr))
    renderer = Renderer(voice, settings, use_cache=not args.no_cache)
    script = renderer.prepare(text, title=args.title)
    bar = _progress_bar("speaking", len(script.to_say), "sentence")
    episode = renderer.episode(script, Path(args.output), progress=lambda done, total: bar.update(done - bar.n))
    bar.close()
    for w in episode.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(episode.summary())
    return 0


def cmd_normalize(args, settings: Settings) -> int:
    normalizer = normalizer_for(settings)
    source = open(args.file, encoding="utf-8") if args.file and args.file != "-" else sys.stdin
    try:
        for number, line in enumerate(source, 1):
            result = normalizer.normalize(line.rstrip("\r\n"))
            sys.stdout.write(result.spoken + "\n")
            for w in result.warnings:
                print(f"warning: line {number}, {w}", file=sys.stderr)
    except UnicodeDecodeError as err:
        raise UserError(f"{args.file or 'standard input'}: not UTF-8 text") from err
    finally:
        if source is not sys.stdin:
            source.close()
    return 0


def cmd_voices(args, settings: Settings) -> int:
    if args.action == "pull":
        path = pull_voice(get_voice(settings, args.name), settings, _download_progress(args.name))
        print(f"installed {args.name} in {path}")
        return 0
    if args.action == "install":
        path = install_voice(get_voice(settings, args.name), Path(args.source), settings)
        print(f"installed {args.name} in {path}")
        return 0
    voices = all_voices(settings)
    rows = [(v.name, v.engine, "yes" if v.is_installed(settings) else "no", v.license, v.label)
            for v in voices.values()]
    if args.json:
        print(json.dumps([dict(zip(("name", "engine", "installed", "license", "label"), r)) for r in rows],
                         ensure_ascii=False))
        return 0
    widths = [max(len(str(r[i])) for r in [("NAME", "ENGINE", "INSTALLED", "LICENSE", ""), *rows])
              for i in range(4)]
    for row in [("NAME", "ENGINE", "INSTALLED", "LICENSE", "LABEL"), *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)) + "  " + row[4])
    return 0


def cmd_editor(args, settings: Settings) -> int:
    """Print a TTS_NEWS_EDITORS entry for one editor: the password is hashed, never stored as given."""
    import getpass

    from werkzeug.security import generate_password_hash

    if not re.fullmatch(r"[\w.-]{1,64}", args.name):
        raise UserError("an editor's name is letters, digits, '.', '_' or '-' (at most 64)")
    password = sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else getpass.getpass("password: ")
    if len(password) < 8:
        raise UserError("the password needs at least 8 characters")
    print(f"{args.name}={generate_password_hash(password)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tts-news", description="Urdu news articles → podcast MP3s")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("synth", help="speak an article into OUT.mp3 (+ .vtt, .chapters.json)")
    p.add_argument("input", help="UTF-8 article file, - for standard input, or an http(s) address of a news page")
    p.add_argument("-o", "--output", required=True, help="the MP3 to write")
    p.add_argument("--voice", help="voice name (see: tts-news voices)")
    p.add_argument("--title", help="episode title (default: the article's first line)")
    p.add_argument("--no-cache", action="store_true", help="synthesize every sentence afresh")
    p.set_defaults(func=cmd_synth)

    p = sub.add_parser("normalize", help="print each input line as it is read aloud")
    p.add_argument("file", nargs="?", help="UTF-8 file (default: standard input)")
    p.set_defaults(func=cmd_normalize)

    p = sub.add_parser("voices", help="list voices, or fetch and install their weights")
    p.add_argument("--json", action="store_true", help="list as JSON")
    vsub = p.add_subparsers(dest="action")
    pull = vsub.add_parser("pull", help="download a voice's weights into the data dir")
    pull.add_argument("name")
    inst = vsub.add_parser("install", help="install a voice's weights from a local archive or folder")
    inst.add_argument("name")
    inst.add_argument("--from", dest="source", required=True, help=".tar.gz archive or model folder")
    p.set_defaults(func=cmd_voices)

    p = sub.add_parser("editor", help="print a TTS_NEWS_EDITORS entry (NAME=HASH) for an editor of the web form")
    p.add_argument("name")
    p.set_defaults(func=cmd_editor)
    _add_service_commands(sub)
    return parser


def _add_service_commands(sub) -> None:
    """Commands whose modules own them: serve, worker, batch, bench."""
    for module in (batch, serve, worker, bench):
        module.add_command(sub)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    try:
        settings = Settings.from_env()
        return args.func(args, settings)
    except NewsError as err:
        print(f"tts-news: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("tts-news: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
