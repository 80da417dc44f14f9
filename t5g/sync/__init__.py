"""The sync engine: how every job runs, whatever started it. Learn it once:

- registry.py   what a job is (Job, Schedule), collected from each app's `<app>/jobs.py`
- runner.py     run_job: the one run path (lock, SyncRun record, alerts), for beat, the refresh button,
                commands and admin's "run now"
- tasks.py      the thin Celery tasks (t5g.run_job, t5g.refresh)
- alerts.py     a job that starts failing or recovers, told once (queued notifications)
- locks.py      one run at a time per job (a Redis lock renewed while the run lives)
- batches.py    reading upstream records: progress, batches, parse with rejects counted, a bounded pool
- upsert.py     writing them: bulk upserts where newer wins, watermarks, marking what left upstream,
                cache feeds bumped after commit
- refresh.py    "refresh now": every refreshed job in order, progress in the database
- schedules.py  the default periodic tasks (django-celery-beat), each job's as its app declares them
- freshness.py  when each job last succeeded or failed, and whether its data is stale

Below it: t5g/clients/ (one thin client per upstream, the write guard, record parsing), t5g.models,
t5g.cache. Above it: the apps' services, which it runs, and the pages, which read what they wrote.
"""
