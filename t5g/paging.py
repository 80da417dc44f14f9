"""Where one page sits in a list: the cases table's pages and the reports' share it."""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil


@dataclass(kw_only=True)
class Page:
    """Where one page sits in a list of `total` items, `per` a page; subclasses add the page's rows."""

    total: int
    number: int
    per: int

    @property
    def num_pages(self) -> int:
        return max(1, ceil(self.total / self.per))

    @property
    def start(self) -> int:
        return (self.number - 1) * self.per + 1 if self.total else 0

    @property
    def end(self) -> int:
        return min(self.total, self.number * self.per)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages
