"""The library: every job and the episode it makes, on disk in the data dir.

One SQLite file (WAL, so the web app reads while workers write) holds a record per job; the episode's
files sit beside it under episodes/<id>.*. The record is the source of truth — the queue only carries
job ids — so a lost queue entry or a killed worker never loses what a user submitted: `orphans()`
finds such jobs and the queue sends them again. A job is claimed atomically before it renders, so a
job id that reaches two workers is still rendered once.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tts_news.audio.sidecars import EPISODE_FILES, beside
from tts_news.core.errors import NotFound, UserError
from tts_news.core.files import copy_atomic

STATUSES = ("queued", "running", "done", "failed")
# How long SQLite waits for another process's write before giving up; renders write rarely.
BUSY_TIMEOUT_S = 30
HOST = socket.gethostname()
INIT_TRIES = 100
STALE_PART_S = 3600  # an encode runs at most this long (encode.ENCODE_TIMEOUT_S): older .part files are litter

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    stage TEXT NOT NULL DEFAULT '',
    done INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0,
    warnings TEXT NOT NULL DEFAULT '[]',
    voice TEXT NOT NULL,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT 'web',
    published INTEGER NOT NULL DEFAULT 1,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    started REAL,
    finished REAL,
    heartbeat REAL,
    worker TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    version INTEGER NOT NULL DEFAULT 0,
    published_at REAL,
    duration REAL,
    size INTEGER,
    chapters INTEGER,
    client TEXT NOT NULL DEFAULT '',
    source_url TEXT
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created);
"""

# Columns added after the first release, for libraries made before them.
ADDED_COLUMNS = {"client": "TEXT NOT NULL DEFAULT ''", "source_url": "TEXT"}


@dataclass
class Job:
    """One article on its way to (or made into) an episode; the episode shares the job's id."""

    id: str
    status: str
    voice: str
    title: str
    text: str
    step: str = ""  # what a running job is doing: preparing, speaking or mastering (the column `stage`)
    done: int = 0
    total: int = 0
    warnings: list[dict] = field(default_factory=list)
    source: str = "web"
    published: bool = True
    created: float = 0.0
    updated: float = 0.0
    started: float | None = None
    finished: float | None = None
    heartbeat: float | None = None
    worker: str | None = None
    attempts: int = 0
    error: str | None = None
    version: int = 0  # bumps on every finished render: audio URLs carry it, ids stay
    published_at: float | None = None  # the first render's time: a feed's pubDate never moves
    duration: float | None = None
    size: int | None = None
    chapters: int | None = None
    client: str = ""  # who sent it (an API key's fingerprint, an editor, an address): for per-client caps
    source_url: str | None = None  # the web page the article was taken from

    @property
    def stage(self) -> str:
        """Where the job is: its status, or while it runs, its step."""
        return self.step if self.status == "running" and self.step else self.status

    @property
    def has_episode(self) -> bool:
        return self.version > 0


def new_job_id() -> str:
    return str(uuid.uuid4())


def check_job_id(job_id: str) -> str:
    """Ids come from URLs: only canonical UUIDs pass, so an id can never name another path."""
    try:
        if str(uuid.UUID(job_id)) == job_id:
            return job_id
    except (ValueError, TypeError, AttributeError):
        pass
    raise NotFound(f"no job or episode with id {job_id!r}")


def worker_id() -> str:
    return f"{HOST}:{os.getpid()}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def worker_is_dead(worker: str | None, heartbeat: float | None, lease_s: float, now: float) -> bool:
    """A running job's worker is gone when its process on this host has exited, or (any host) when it
    has not been heard from for a whole lease."""
    if heartbeat is None or now - heartbeat > lease_s:
        return True
    host, _, pid = (worker or "").rpartition(":")
    return host == HOST and pid.isdigit() and not _pid_alive(int(pid))


class Library:
    def __init__(self, data_dir: Path, lease_s: float = 60.0, max_attempts: int = 3) -> None:
        self.data_dir = Path(data_dir)
        self.episodes_dir = self.data_dir / "episodes"
        self.path = self.data_dir / "library.sqlite3"
        self.lease_s = lease_s
        self.max_attempts = max_attempts
        self.episodes_dir.mkdir(parents=True, exist_ok=True)
        # Processes starting together race to switch a new file to WAL, and SQLite answers "locked"
        # at once there rather than waiting: try again for a while.
        for attempt in range(INIT_TRIES):
            try:
                with self._db() as db:
                    if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                        db.execute("PRAGMA journal_mode=WAL")
                    db.executescript(SCHEMA)
                    columns = {r[1] for r in db.execute("PRAGMA table_info(jobs)")}
                    for column, declaration in ADDED_COLUMNS.items():  # a library made by an older version
                        if column not in columns:
                            db.execute(f"ALTER TABLE jobs ADD COLUMN {column} {declaration}")
                break
            except sqlite3.OperationalError as err:
                if "locked" not in str(err) or attempt == INIT_TRIES - 1:
                    raise
                time.sleep(0.1)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        # A connection per use: safe across the web app's threads, the worker and its heartbeat.
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        db.row_factory = sqlite3.Row
        try:
            db.execute("PRAGMA synchronous=NORMAL")
            yield db
        finally:
            db.close()

    # -- files ----------------------------------------------------------------------------------
    def episode_path(self, job_id: str, suffix: str = ".mp3") -> Path:
        return self.episodes_dir / f"{check_job_id(job_id)}{suffix}"

    # -- records --------------------------------------------------------------------------------
    def create(self, text: str, voice: str, title: str, *, source: str = "web",
               published: bool = True, job_id: str | None = None, client: str = "", source_url: str | None = None,
               max_waiting: int | None = None, max_waiting_for_client: int | None = None) -> Job | None:
        """Record a queued job. With caps, the record is made only while fewer jobs than that wait (in
        all, and for this client) — checked in the same statement, so concurrent submissions cannot
        overshoot; None when a cap refused it."""
        now = time.time()
        job = Job(id=job_id or new_job_id(), status="queued", voice=voice, title=title, text=text,
                  source=source, published=published, created=now, updated=now, client=client,
                  source_url=source_url)
        values = (job.id, job.status, job.voice, job.title, job.text, job.source, int(published),
                  now, now, client, source_url)
        sql = ("INSERT INTO jobs (id, status, voice, title, text, source, published, created, updated,"
               " client, source_url) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE 1")
        args: list = [*values]
        if max_waiting is not None:
            sql += " AND (SELECT COUNT(*) FROM jobs WHERE status = 'queued') < ?"
            args.append(max_waiting)
        if max_waiting_for_client is not None:
            sql += " AND (SELECT COUNT(*) FROM jobs WHERE status = 'queued' AND client = ?) < ?"
            args += [client, max_waiting_for_client]
        with self._db() as db:
            if db.execute(sql, args).rowcount != 1:
                return None
        return job

    def waiting(self, client: str | None = None) -> int:
        """Jobs queued and not yet taken: all of them, or one client's."""
        sql, args = "SELECT COUNT(*) FROM jobs WHERE status = 'queued'", []
        if client is not None:
            sql += " AND client = ?"
            args.append(client)
        with self._db() as db:
            return db.execute(sql, args).fetchone()[0]

    def remove_unpublished(self, older_than: float) -> list[str]:
        """Forget finished or failed jobs nobody published (and their files) last touched before
        `older_than`; returns their ids."""
        with self._db() as db:
            ids = [r[0] for r in db.execute(
                "SELECT id FROM jobs WHERE published = 0 AND status IN ('done', 'failed') AND updated < ?",
                (older_than,))]
            for job_id in ids:
                for path in self.episodes_dir.glob(f"{job_id}.*"):
                    path.unlink(missing_ok=True)
                db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
        return ids

    def get(self, job_id: str) -> Job:
        check_job_id(job_id)
        with self._db() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise NotFound(f"no job or episode with id {job_id!r}")
        return _job(row)

    def jobs(self, *, status: str | None = None, published_only: bool = False, with_episode: bool = False,
             limit: int = 200) -> list[Job]:
        """Newest first."""
        where, args = [], []
        if status:
            where.append("status = ?")
            args.append(status)
        if published_only:
            where.append("published = 1")
        if with_episode:
            where.append("version > 0")
        sql = "SELECT * FROM jobs" + (" WHERE " + " AND ".join(where) if where else "")
        with self._db() as db:
            rows = db.execute(sql + " ORDER BY created DESC LIMIT ?", (*args, limit)).fetchall()
        return [_job(r) for r in rows]

    def claim(self, job_id: str, worker: str | None = None) -> Job | None:
        """Mark the job running for this worker, or None when it is not ours to run: finished, failed,
        or running under a live worker. Atomic across processes (one UPDATE)."""
        worker = worker or worker_id()
        now = time.time()
        job = self.get(job_id)
        if job.status == "running" and not worker_is_dead(job.worker, job.heartbeat, self.lease_s, now):
            return None
        if job.status not in ("queued", "running"):
            return None
        if job.status == "running" and job.attempts >= self.max_attempts:
            # Its worker died during every one of its renders: a poison job, not sent round again.
            with self._db() as db:
                db.execute("UPDATE jobs SET status='failed', error=?, finished=?, updated=?"
                           " WHERE id=? AND status='running' AND updated=?",
                           (f"the render stopped its worker {job.attempts} times (out of memory, a crash); "
                            "it is not tried again automatically", now, now, job_id, job.updated))
            return None
        with self._db() as db:
            cur = db.execute(
                "UPDATE jobs SET status='running', stage='preparing', worker=?, heartbeat=?, started=?,"
                " updated=?, attempts=attempts+1, error=NULL, done=0"
                " WHERE id=? AND status=? AND updated=?",
                (worker, now, now, now, job_id, job.status, job.updated))
        return self.get(job_id) if cur.rowcount == 1 else None

    def _update_held(self, job_id: str, holder: str, **values) -> int:
        """Write to a running job only while `holder` (its worker) still holds it; rows written."""
        return self._update(job_id, " AND worker = ? AND status = 'running'", [holder], values)

    def _update_finished(self, job_id: str, **values) -> int:
        """Write to a job only if it is done or failed (nobody is rendering it); rows written."""
        return self._update(job_id, " AND status IN ('done', 'failed')", [], values)

    def _update(self, job_id: str, condition: str, condition_args: list, values: dict) -> int:
        values["updated"] = time.time()
        cols = ", ".join(f"{k} = ?" for k in values)
        args = [*(json.dumps(v, ensure_ascii=False) if k == "warnings" else v for k, v in values.items()), job_id]
        with self._db() as db:
            return db.execute(f"UPDATE jobs SET {cols} WHERE id = ?{condition}", [*args, *condition_args]).rowcount

    def progress(self, job_id: str, worker: str, done: int, total: int, step: str = "speaking") -> bool:
        """Record progress; False when the job is no longer this worker's (cancelled, or taken over)."""
        now = time.time()
        return self._update_held(job_id, worker, done=done, total=total, stage=step, heartbeat=now) == 1

    def beat(self, job_id: str, worker: str) -> None:
        self._update_held(job_id, worker, heartbeat=time.time())

    def note(self, job_id: str, worker: str, warnings: list[dict], voice: str) -> None:
        self._update_held(job_id, worker, warnings=warnings, voice=voice)

    def finish(self, job_id: str, worker: str, *, title: str, duration: float, chapters: int,
               warnings: list[dict]) -> bool:
        """Mark the render done; False when the job stopped being this worker's meanwhile."""
        size = self.episode_path(job_id).stat().st_size
        now = time.time()
        job = self.get(job_id)
        return self._update_held(job_id, worker, status="done", title=title, duration=duration,
                                 chapters=chapters, size=size, warnings=warnings, finished=now,
                                 version=job.version + 1, published_at=job.published_at or now) == 1

    def set_published(self, job_id: str, published: bool) -> Job:
        """An editor's decision: the job's episode is in the public feed and list, or not."""
        self.get(job_id)
        with self._db() as db:
            db.execute("UPDATE jobs SET published = ?, updated = ? WHERE id = ?", (int(published), time.time(), job_id))
        return self.get(job_id)

    def cancel(self, job_id: str) -> bool:
        """Stop a queued or running job: its worker notices at the next sentence and lets it go."""
        now = time.time()
        with self._db() as db:
            return db.execute("UPDATE jobs SET status='failed', error='cancelled by an editor',"
                              " finished=?, updated=? WHERE id=? AND status IN ('queued', 'running')",
                              (now, now, job_id)).rowcount == 1

    def import_episode(self, files: Path, *, text: str, title: str, voice: str, duration: float, chapters: int,
                       warnings: list[dict], source: str = "batch", job_id: str | None = None,
                       source_url: str | None = None) -> Job:
        """Add an episode rendered elsewhere (a batch run) to the library, files copied in; with the id
        of one imported before, it replaces that episode's audio (id kept, version bumped)."""

        exists = False
        if job_id:
            try:
                self.get(job_id)
                exists = True
            except NotFound:
                pass
        if not exists:
            job_id = self.create(text, voice, title, source=source, job_id=job_id, source_url=source_url).id
            self.claim(job_id, "import")
        else:
            with self._db() as db:
                db.execute("UPDATE jobs SET status='running', worker='import', text=?, voice=? WHERE id=?",
                           (text, voice, job_id))
        for suffix in EPISODE_FILES:  # in order: the MP3 last, it completes the set
            copy_atomic(beside(files, suffix), self.episode_path(job_id, suffix))
        self.finish(job_id, "import", title=title, duration=duration, chapters=chapters, warnings=warnings)
        return self.get(job_id)

    def fail(self, job_id: str, worker: str, message: str) -> None:
        self._update_held(job_id, worker, status="failed", error=message, finished=time.time())

    def requeue(self, job_id: str, *, voice: str | None = None) -> Job:
        """Send a finished or failed job round again (a new voice, a fixed lexicon); id and old audio
        stay until the new render replaces them."""
        values = {"status": "queued", "stage": "", "error": None, "done": 0, "worker": None}
        if voice:
            values["voice"] = voice
        if not self._update_finished(job_id, **values):  # only a finished or failed job goes round again
            raise UserError(f"job {job_id} is already {self.get(job_id).status}")
        return self.get(job_id)

    def delete(self, job_id: str) -> None:
        """Forget a job and remove its episode files (an editor's decision: the feed drops it too). A job
        being rendered is cancelled first: its worker stops at the next sentence and writes nothing more."""
        self.get(job_id)
        self.cancel(job_id)
        with self._db() as db:
            db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
        for path in self.episodes_dir.glob(f"{job_id}.*"):
            path.unlink(missing_ok=True)

    def remove_stale_parts(self, older_than_s: float = STALE_PART_S) -> int:
        """Temporary files (and an encoder's metadata FIFOs) a killed process left among the episodes
        (they are never completed); old enough that no live encode (on any machine sharing the folder)
        can still be writing them."""
        cutoff = time.time() - older_than_s
        stale = [p for p in self.episodes_dir.glob(".*.part*") if not p.is_dir() and p.stat().st_mtime < cutoff]
        for path in stale:
            path.unlink(missing_ok=True)
        return len(stale)

    def orphans(self) -> list[Job]:
        """Jobs a worker took and will never finish (it died): they must be sent again."""
        now = time.time()
        return [j for j in self.jobs(status="running", limit=10_000)
                if worker_is_dead(j.worker, j.heartbeat, self.lease_s, now)]

    def counts(self) -> dict[str, int]:
        with self._db() as db:
            rows = db.execute("SELECT status, COUNT(*) FROM jobs GROUP BY status").fetchall()
        return {s: 0 for s in STATUSES} | {r[0]: r[1] for r in rows}


def _job(row: sqlite3.Row) -> Job:
    data = dict(row)
    data["warnings"] = json.loads(data["warnings"] or "[]")
    data["step"] = data.pop("stage")
    data["published"] = bool(data["published"])
    return Job(**data)
