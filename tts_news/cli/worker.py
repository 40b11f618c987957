"""`tts-news worker`: a job worker for scale-out (Redis), one per machine or per core."""

from __future__ import annotations

import logging
import sys
import threading

from tts_news.core.config import Settings
from tts_news.jobs.library import Library, worker_id
from tts_news.jobs.queue import Queue
from tts_news.jobs.worker import Worker, stop_on_signals


def cmd_worker(args, settings: Settings) -> int:
    logging.getLogger("tts_news").setLevel(logging.INFO)  # a worker's log says what it rendered
    queue = Queue(settings)
    worker = Worker(settings, Library(settings.data_dir, settings.job_lease_s, settings.max_attempts), queue)
    worker.preload()
    sent = worker.start()
    stop = threading.Event()
    threading.Thread(target=worker.sweep_forever, args=(stop,), daemon=True, name="sweeper").start()
    print(f"tts-news worker {worker_id()} ready: queue {queue.where}, {sent} unfinished jobs sent again",
          file=sys.stderr, flush=True)
    stop_on_signals()
    try:
        queue.consumer(worker, args.threads).run()
    finally:
        stop.set()
    return 0


def add_command(sub) -> None:
    p = sub.add_parser("worker", help="consume jobs (Redis: run one per machine or per core)")
    p.add_argument("--threads", type=int, default=1,
                   help="jobs at once in this process (voices serialize synthesis; default 1)")
    p.set_defaults(func=cmd_worker)
