"""Several processes writing at once (web, worker, beat) never see "database is locked"."""

import subprocess
import sys

import pytest

from t5g.models import SyncRun
from tests.processes import BASE_DIR, child_env

pytestmark = pytest.mark.django_db(transaction=True)

WRITER = """
import django; django.setup()
from django.db import transaction
from t5g.models import SyncRun
for i in range(150):
    with transaction.atomic():
        run = SyncRun.objects.create(source="cases", trigger="manual")
        SyncRun.objects.filter(pk=run.pk).update(fetched=i)
"""


def test_it_serialises_concurrent_writers_without_errors():
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER], cwd=BASE_DIR, env=child_env(), stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    for _ in range(150):
        SyncRun.objects.create(source="bugs", trigger="manual")
    errors = [w.communicate(timeout=120)[1].decode() for w in writers]
    assert [w.returncode for w in writers] == [0, 0, 0], errors
    assert SyncRun.objects.filter(source="cases").count() == 450
    assert SyncRun.objects.filter(source="bugs").count() == 150
