"""Reading upstream records: strict value parsers (a malformed record is rejected whole) and batching.

Below the clients and the sync engine: it imports nothing of T5G.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from itertools import islice
from typing import TypeVar

T = TypeVar("T")

# ASCII digits only: \d also matches other scripts' digits, which no upstream means as a case number.
CASE_NUMBER = re.compile(r"^\d{8}\Z", re.ASCII)


class RecordError(ValueError):
    """An upstream record that cannot be parsed; it is skipped and counted, never half-written."""


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def parse_time(value, *, field: str, required: bool = False) -> datetime | None:
    """ISO 8601 (the portal's "2026-11-28T10:15:02Z", JIRA's "2026-11-28T10:15:02.000+0000") to aware UTC."""
    if value in (None, ""):
        if required:
            raise RecordError(f"{field} is missing")
        return None
    if not isinstance(value, str):
        raise RecordError(f"{field}: expected a time, got {value!r}")
    try:
        at = datetime.fromisoformat(value)  # Python 3.11 reads both forms, Z and +0000 included
    except ValueError as exc:
        raise RecordError(f"{field}: not a time: {value!r}") from exc
    if at.tzinfo is None:
        raise RecordError(f"{field}: time without a zone: {value!r}")
    return at.astimezone(UTC)


def case_number(value, *, field: str = "case number") -> str:
    text = str(value or "").strip()
    if not CASE_NUMBER.match(text):
        raise RecordError(f"{field}: not a case number: {value!r}")
    return text


def text(value, *, field: str, max_length: int | None = None) -> str:
    if value is None:
        return ""
    if not isinstance(value, str | int | float):
        raise RecordError(f"{field}: expected text, got {type(value).__name__}")
    out = str(value)
    return out[:max_length] if max_length else out


def str_list(value, *, field: str, separator: str | None = None) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        parts = re.split(separator or r"[;,]", value) if separator != "" else [value]
        return [p.strip() for p in parts if p.strip()]
    if isinstance(value, list) and all(isinstance(v, str | int) for v in value):
        return [str(v) for v in value]
    raise RecordError(f"{field}: expected a list of strings, got {value!r}")
