"""gunicorn settings (Procfile): request metrics from every worker process.

With several workers, prometheus_client writes each worker's metrics to files under
PROMETHEUS_MULTIPROC_DIR and /metrics adds them up; the files of a previous start are stale.
"""

import os
import shutil

from prometheus_client import multiprocess

# The access log without query strings: an old JIRA Server's webhook carries its secret as ?token= (t5g/webhooks.py),
# and searches carry what people look for.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(f)s" "%(a)s"'


def on_starting(server) -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)


def child_exit(server, worker) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
