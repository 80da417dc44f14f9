"""Cache keys with a generation number that a sync bumps (the djangoproject.com dashboard's idea).

A view caches under f"{name}:{generation}"; a sync bumps the generation of the views its
data feeds after each commit, so no page is ever older than the database. With Redis
down, generation() is 0 and every get is a miss: pages come from the database.
"""

from __future__ import annotations

from django.core.cache import cache
from django.db import transaction

# What each job's data feeds; a view caches on the generations of the names it reads.
FEEDS = {
    "cases": ("cases",),
    "details": ("cases",),
    "cards": ("cases", "cards"),
    "issues": ("cases", "bugs"),
    "bugs": ("cases", "bugs"),
    "escalations": ("cases", "escalations"),
    "stats": ("stats",),
    "create_cards": ("cases", "cards"),
    "priority": ("cards",),
    "tag_bugs": ("bugs",),
}


def _key(name: str) -> str:
    return f"generation:{name}"


def generation(*names: str) -> str:
    values = cache.get_many([_key(n) for n in names])
    return ".".join(str(values.get(_key(n), 0)) for n in names)


def bump(*names: str) -> None:
    for name in names:
        try:
            cache.incr(_key(name))
        except ValueError:  # not there yet (or Redis down: then nothing is cached anyway)
            cache.add(_key(name), 1, timeout=None)


def bump_after_commit(job: str) -> None:
    """Bump the views a job's data feeds once the current transaction commits."""
    names = FEEDS.get(job, ())
    transaction.on_commit(lambda: bump(*names))
