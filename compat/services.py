"""Bringing the old dashboard's configuration and history into T5G (`manage.py import_t5gweb`).

- the team: the old `team` JSON (predecessor.md §4.6: name, jira_user, jira_account_id, slack_user,
  accounts, active and notifieduser as "true"/"false") → cards.TeamMember, matched by name;
- the SLA settings: the old `sla_settings` JSON ({days: {Urgent, High, Normal, Low}, partners: [accounts]})
  → one cases.SlaPartner per partner account, matched by account;
- the daily stats history: the old Redis `stats` key ({date: generate_stats() of that day}, §3.4) →
  stats.DailyStats of scope "all", its metrics renamed to T5G's keys.

Each import upserts: a run twice leaves the same rows. What is not taken is listed with the reason.
A day T5G computed itself is kept: computed from the mirrored history, it is the better figure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction

from cards.models import TeamMember
from cases.models import SlaPartner
from stats.models import DailyStats
from stats.selectors import DURATIONS
from t5g.cache import bump_after_commit

from .selectors import STATS_BREAKDOWNS, STATS_BUG_KEYS, STATS_KEYS

IMPORTED = "t5gweb"  # metrics["imported_from"] of a day brought from the old dashboard
TEAM_FIELDS = {"name", "jira_user", "jira_account_id", "slack_user", "accounts", "active", "notifieduser",
               "email"}  # fmt: skip
SLA_DAYS = {"Urgent": "urgent_days", "High": "high_days", "Normal": "normal_days", "Low": "low_days"}
MAX_DAYS = 32767  # the SLA fields are small integers


class ImportError_(ValueError):  # noqa: N801 - ImportError is Python's own
    """A source that cannot be imported at all (not the expected shape); the message says what is wrong,
    `source` which one ("team", "sla" or "stats")."""

    source = ""


@dataclass
class Report:
    """What an import took and what it skipped, per kind ("team member", "SLA partner", "stats day")."""

    added: dict[str, list[str]] = field(default_factory=dict)
    updated: dict[str, list[str]] = field(default_factory=dict)
    unchanged: dict[str, list[str]] = field(default_factory=dict)
    skipped: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # (what, why)

    def took(self, kind: str, what: str, *, created: bool, changed: bool) -> None:
        target = self.added if created else self.updated if changed else self.unchanged
        target.setdefault(kind, []).append(what)

    def skip(self, kind: str, what: str, why: str) -> None:
        self.skipped.setdefault(kind, []).append((what, why))


def _flag(value: object, *, name: str) -> bool:
    """The old config's "true"/"false" strings (and real booleans)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError(f'{name} must be "true" or "false", not {value!r}')


def _prefix(account: str) -> str:
    return account if account.endswith("*") else account + "*"


def _member_fields(item: dict) -> dict:
    accounts = item.get("accounts", [])
    if isinstance(accounts, str):  # a CSV string in some old configs
        accounts = [a for a in accounts.split(",")]
    if not isinstance(accounts, list) or not all(isinstance(a, str) for a in accounts):
        raise ValueError("accounts must be a list of account names")
    values = {
        "jira_user": item.get("jira_user") or "",
        "jira_account_id": item.get("jira_account_id") or "",
        "slack_id": item.get("slack_user") or "",
        # The old tool matched an account by substring ("Verizon" owned "Verizon Wireless"): the nearest pattern T5G
        # has is a prefix (cards/assignment.py), which also matches the name itself.
        "accounts": "\n".join(_prefix(a.strip()) for a in accounts if a.strip()),
        "active": _flag(item.get("active", "true"), name="active"),
        "notify_on_case": _flag(item.get("notifieduser", "true"), name="notifieduser"),
    }
    if item.get("email"):
        values["email"] = item["email"]
    if not all(isinstance(v, str | bool) for v in values.values()):
        raise ValueError("jira_user, jira_account_id, slack_user and email must be text")
    return values


def import_team(*, data: object, report: Report) -> None:
    """Upsert the members of an old `team` list by name; a member that cannot be read is skipped, the others taken."""
    kind = "team member"
    if not isinstance(data, list):
        raise ImportError_("expected a JSON list of team members (the old `team` setting)")
    seen: set[str] = set()
    for n, item in enumerate(data, 1):
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str) or not name.strip():
            report.skip(kind, f"#{n}", "no name")
            continue
        name = name.strip()
        if name in seen:
            report.skip(kind, name, "listed more than once: the first was taken")
            continue
        seen.add(name)
        try:
            values = _member_fields(item)
        except ValueError as exc:
            report.skip(kind, name, str(exc))
            continue
        member = TeamMember.objects.filter(name=name).first() or TeamMember(name=name)
        created = member.pk is None
        changed = any(getattr(member, k) != v for k, v in values.items())
        for k, v in values.items():
            setattr(member, k, v)
        try:
            member.full_clean(validate_unique=False)
        except ValidationError as exc:
            report.skip(kind, name, "; ".join(exc.messages))
            continue
        if created or changed:
            member.save()
        if unknown := sorted(set(item) - TEAM_FIELDS):
            report.skip(f"{kind} field", name, f"not kept by T5G: {', '.join(unknown)}")
        report.took(kind, name, created=created, changed=changed)


def import_sla(*, data: object, report: Report) -> None:
    """Upsert one SLA partner per account of the old `sla_settings`, with its days per severity."""
    kind = "SLA partner"
    if not isinstance(data, dict) or not isinstance(data.get("partners", []), list):
        raise ImportError_('expected a JSON object {"days": {"Urgent": 14, …}, "partners": ["account", …]}')
    days = data.get("days") or {}
    if not isinstance(days, dict):
        raise ImportError_('"days" must be an object of days per severity: {"Urgent": 14, "High": 20, …}')
    values = {}
    for severity, value in days.items():
        if severity not in SLA_DAYS:
            raise ImportError_(f'"days": unknown severity {severity!r} (expected {", ".join(SLA_DAYS)})')
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_DAYS:
            raise ImportError_(f'"days": {severity} must be a whole number of days from 1 to {MAX_DAYS}')
        values[SLA_DAYS[severity]] = value
    # A severity the old settings leave out keeps the old defaults, which are T5G's (predecessor.md §1.2).
    values = {name: values.get(name, SlaPartner._meta.get_field(name).default) for name in SLA_DAYS.values()}
    for account in dict.fromkeys(data.get("partners", [])):
        if not isinstance(account, str) or not account.strip():
            report.skip(kind, repr(account), "not an account name")
            continue
        partner, created = SlaPartner.objects.get_or_create(account=account.strip(), defaults=values)
        changed = not created and any(getattr(partner, k) != v for k, v in values.items())
        if changed:
            SlaPartner.objects.filter(pk=partner.pk).update(**values)
        report.took(kind, partner.account, created=created, changed=changed)
    if not data.get("partners"):
        report.skip(kind, "all", "the settings list no partners: the days apply to partners only")


def _count(value: object) -> int:
    """A count of the old stats: a missing or unreadable one is 0, as the old charts drew it (exists_or_zero)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def convert_stats(old: dict) -> dict:
    """One day of the old generate_stats() as T5G's metrics (selectors.old_stats turns them back)."""
    metrics = {new: _count(old.get(key)) for key, new in STATS_KEYS.items()}
    # The old no_updates counted the open cases that *had* an update in the week (§3.4).
    metrics["no_updates"] = max(metrics["open_cases"] - _count(old.get("no_updates")), 0)
    bugs = old.get("bugs") if isinstance(old.get("bugs"), dict) else {}
    metrics.update({new: _count(bugs.get(key)) for key, new in STATS_BUG_KEYS.items()})
    for name in STATS_BREAKDOWNS:
        breakdown = old.get(name)
        metrics[name] = {str(k): _count(v) for k, v in breakdown.items()} if isinstance(breakdown, dict) else {}
    metrics.update({name: {} for name in DURATIONS})  # the old history kept no relief / resolution times
    metrics["imported_from"] = IMPORTED
    return metrics


def import_stats(*, data: object, report: Report) -> None:
    """Upsert one "all" DailyStats per day of the old `stats` history."""
    kind = "stats day"
    if not isinstance(data, dict):
        raise ImportError_("expected the old stats history: a JSON object of date → that day's stats")
    existing = {row.date: row for row in DailyStats.objects.filter(scope="all", date__in=_dates(data))}
    for raw, old in sorted(data.items()):
        try:
            day = date.fromisoformat(str(raw))
        except ValueError:
            report.skip(kind, str(raw)[:40], "not a date as YYYY-MM-DD")
            continue
        if not isinstance(old, dict):
            report.skip(kind, raw, "its stats are not an object")
            continue
        metrics = convert_stats(old)
        row = existing.get(day)
        if row is not None and row.metrics.get("imported_from") != IMPORTED:
            report.skip(kind, raw, "T5G computed this day itself: its figures were kept")
            continue
        if row is None:
            DailyStats.objects.create(date=day, scope="all", metrics=metrics)
        elif row.metrics != metrics:
            DailyStats.objects.filter(pk=row.pk).update(metrics=metrics)
        report.took(kind, raw, created=row is None, changed=row is not None and row.metrics != metrics)


def _dates(data: dict) -> list[date]:
    found = []
    for raw in data:
        try:
            found.append(date.fromisoformat(str(raw)))
        except ValueError:
            pass
    return found


def import_t5gweb(*, team: object = None, sla: object = None, stats: object = None, dry_run: bool = False) -> Report:
    """Import what is given (decoded JSON, None for a source not given) in one transaction: all or nothing,
    and nothing at all with `dry_run` (the report says what a real run would do)."""
    report = Report()
    steps = {"team": (import_team, team), "sla": (import_sla, sla), "stats": (import_stats, stats)}
    with transaction.atomic():
        for source, (step, data) in steps.items():
            if data is None:
                continue
            try:
                step(data=data, report=report)
            except ImportError_ as exc:
                exc.source = source
                raise
        if dry_run:
            transaction.set_rollback(True)
        else:
            # Pages cached before show the new rows: the stats page, the table's SLA colours, the assignee lists.
            bump_after_commit(*(["cards"] if team is not None else []), *(["cases"] if sla is not None else []),
                              *(["stats"] if stats is not None else []))  # fmt: skip
    return report
