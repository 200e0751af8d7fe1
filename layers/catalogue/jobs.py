"""Ingest jobs run in the background, a few at a time, beside the API."""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import psycopg

from layers.catalogue.ingest import Ingest, Outcome

log = logging.getLogger(__name__)
RETRIES = 25
RETRY_SECONDS = 0.2


class JobRunner:
    """Runs queued ingest jobs on worker threads (each job on its own connections)."""

    def __init__(self, dsn: str, work_dir: Path, workers: int, rasters_dir: Path, *,
                 processes: int) -> None:
        self.ingest = Ingest(dsn, work_dir, rasters_dir, processes=processes)
        self.dsn = dsn
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ingest")

    def submit(self, job_id: int) -> Future[Outcome]:
        """Queue a job."""
        return self.pool.submit(self._run, job_id)

    def _run(self, job_id: int) -> Outcome:
        try:
            # The request that queued the job may not have committed yet: give it a moment.
            for _ in range(RETRIES):
                outcome = self.ingest.run(job_id)
                if outcome.status != "skipped" or self._taken(job_id):
                    return outcome
                time.sleep(RETRY_SECONDS)
            return outcome
        except Exception:
            # An unexpected failure is still the job's end, never the API's.
            log.exception("ingest job %s failed unexpectedly", job_id)
            with psycopg.connect(self.dsn, autocommit=True) as conn:
                conn.execute("UPDATE etl_job SET status = 'failed', message = %s, "
                             "updated_at = now() WHERE id = %s",
                             ("an internal error stopped the job; it can be retried", job_id))
            return Outcome("failed", "internal error")

    def _taken(self, job_id: int) -> bool:
        """Whether the job exists and is past its queue (so skipping it was right)."""
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            row = conn.execute("SELECT status FROM etl_job WHERE id = %s", (job_id,)).fetchone()
        return row is not None and row[0] != "queued"

    def resume(self) -> int:
        """Requeue jobs a stopped process left behind: still queued, or running with no sign
        of life for ten minutes (they restart cleanly; a claim keeps each to one worker)."""
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            rows = conn.execute(
                "UPDATE etl_job SET status = 'queued' WHERE status = 'queued' OR "
                "(status = 'running' AND updated_at < now() - interval '10 minutes') "
                "RETURNING id").fetchall()
        for (job_id,) in rows:
            self.submit(int(job_id))
        return len(rows)

    def close(self) -> None:
        """Stop taking jobs; wait for the running ones."""
        self.pool.shutdown(wait=True, cancel_futures=True)
