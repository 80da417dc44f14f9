"""gunicorn settings (Procfile): request metrics from every worker process.

With several workers, prometheus_client writes each worker's metrics to files under
PROMETHEUS_MULTIPROC_DIR and /metrics adds them up; the files of a previous start are stale.
"""

import os
import shutil

from prometheus_client import multiprocess


def on_starting(server) -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)


def child_exit(server, worker) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
