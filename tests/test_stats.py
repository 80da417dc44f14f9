"""Daily stats from rows built here: every metric for a past day, scopes, idempotence, backfill."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bugs.models import Bug, Issue
from cards.models import Card
from cases.models import Case, CaseComment, Detail
from escalations.models import Escalation
from stats.models import DailyStats
from stats.services import compute_day
from t5g.sync.runner import run_job
from tests.factories import make_case

pytestmark = pytest.mark.django_db

DAY = timezone.now().date() - timedelta(days=10)  # the past day most tests look at


def at(offset: int, hour: int = 9) -> datetime:
    return datetime.combine(DAY + timedelta(days=offset), time(hour), tzinfo=UTC)


def case(number: str, *, account: str, severity: int, created: datetime, status: str = "Waiting on Red Hat",
         updated: datetime | None = None, engineer: str | None = None, card_escalated: bool = False,
         relief: datetime | None = None, resolved: datetime | None = None, **fields):  # fmt: skip
    row = make_case(
        number, account=account, severity=severity, created_at=created, status=status,
        upstream_updated_at=updated or timezone.now(), **fields,
    )  # fmt: skip
    if engineer is not None or card_escalated:
        Card.objects.create(key=f"T5G-{number}", case=row, jira_status="In Progress", assignee=engineer or "",
                            escalated=card_escalated)  # fmt: skip
    if relief or resolved:
        Detail.objects.create(case=row, relief_at=relief, resolved_at=resolved)
    return row


def escalate(row, kind: str, *, since: datetime, removed: datetime | None = None) -> None:
    Escalation.objects.create(case=row, type=kind, escalated_at=since, removed_at=removed)


@pytest.fixture
def world():
    """Cases around DAY, each there to test one or two metrics (the comments say which)."""
    a = case("01000001", account="Acme", severity=1, created=at(-30), engineer="ada", relief=at(-28))
    CaseComment.objects.create(id="a1", case=a, body="update", created_at=at(-1))  # updated this week
    escalate(a, "prio_list", since=at(-2))
    b = case("01000002", account="Acme", severity=2, created=at(0, 10), updated=at(0, 10),
             status="Waiting on Customer", engineer="bob", relief=at(1))  # fmt: skip  # opened today; relief later
    escalate(b, "crit_sit", since=at(0, 11))
    case("01000003", account="Globex", severity=3, created=at(-20), status="Closed", closed_at=at(0, 8),
             engineer="ada", relief=at(-19), resolved=at(0, 8))  # fmt: skip  # closed today
    e = case("01000004", account="Globex", severity=4, created=at(-40), updated=at(-15))  # no update this week
    CaseComment.objects.create(id="e1", case=e, body="old", created_at=at(-12))
    case("01000005", account="Globex", severity=3, created=at(-100), status="Closed", closed_at=at(-50),
         relief=at(-95), resolved=at(-50))  # fmt: skip  # closed long ago: only in the distributions
    case("01000006", account="Acme", severity=1, created=at(2), relief=at(3))  # after DAY: nowhere
    case("01000007", account="Acme", severity=3, created=at(-10), status="Closed", updated=at(-3))  # closed, no date
    case("01000008", account="Acme", severity=2, created=at(-10), removed_at=at(-1))  # left the query
    j = case("01000009", account="Globex", severity=2, created=at(-5), engineer="bob", card_escalated=True)
    escalate(j, "prio_list", since=at(1))  # later: the card's flag is what escalates it on DAY
    k = case("01000010", account="Acme", severity=3, created=at(-3))
    escalate(k, "crit_sit", since=at(-3), removed=at(-1))  # over by DAY
    case("01000011", account="Acme", severity=4, created=at(-8), status="Closed", closed_at=at(2))  # open on DAY

    bz_no_target = Bug.objects.create(id=1, summary="panic", target_release="---", upstream_updated_at=at(-1))
    bz_no_target.cases.add(a, j)  # two cases, one bug
    Bug.objects.create(id=2, restricted=True).cases.add(e)  # target unknown, not missing
    Issue.objects.create(key="OCPBUGS-1", fix_versions=["4.18"]).cases.add(a)
    Issue.objects.create(key="OCPBUGS-2", fix_versions=[]).cases.add(j)


def histogram(**counts) -> dict:
    buckets = {"<1": 0, "1-3": 0, "3-7": 0, "7-14": 0, "14-30": 0, "30-90": 0, "90+": 0}
    return {**buckets, **{k.replace("_", "-").replace("d", ""): v for k, v in counts.items()}}


def summary(count: int, mean: float, median: float, **buckets) -> dict:
    return {"count": count, "mean": mean, "median": median, "histogram": histogram(**buckets)}


def test_it_computes_every_metric_for_a_past_day(world):
    stats = compute_day(day=DAY, dry_run=False)

    assert stats["all"] == {
        "open_cases": 6, "opened_today": 1, "opened_week": 3, "closed_today": 1, "closed_week": 2,
        "no_updates": 2, "high_prio": 3, "escalated": 2, "crit_sit": 1, "total_escalations": 3, "no_bugs": 3,
        "unique_bugs": 4, "bugs_no_target": 2,
        "by_customer": {"Acme": 4, "Globex": 2},
        "by_engineer": {"ada": 1, "bob": 2, "(unassigned)": 3},
        "by_severity": {"Urgent": 1, "High": 2, "Normal": 1, "Low": 2},
        "by_status": {"Waiting on Red Hat": 4, "Waiting on Customer": 1, "(closed since)": 1},
        "relief_days": {"Urgent": summary(1, 2.0, 2.0, d1_3=1), "Normal": summary(2, 3.0, 3.0, d1_3=1, d3_7=1)},
        "resolution_days": {"Normal": summary(2, 34.98, 34.98, d14_30=1, d30_90=1)},
    }  # fmt: skip
    assert DailyStats.objects.get(date=DAY, scope="all").metrics == stats["all"]


def test_it_computes_one_scope_per_account_and_engineer(world):
    stats = compute_day(day=DAY, dry_run=False)

    assert sorted(stats) == ["account:Acme", "account:Globex", "all", "engineer:ada", "engineer:bob"]
    assert set(DailyStats.objects.filter(date=DAY).values_list("scope", flat=True)) == set(stats)
    acme, globex, ada, bob = (stats[s] for s in ("account:Acme", "account:Globex", "engineer:ada", "engineer:bob"))
    assert (acme["open_cases"], acme["opened_week"], acme["closed_week"], acme["no_updates"]) == (4, 2, 1, 1)
    assert (acme["escalated"], acme["crit_sit"], acme["no_bugs"], acme["unique_bugs"]) == (1, 1, 3, 2)
    assert acme["by_customer"] == {"Acme": 4} and acme["relief_days"] == {"Urgent": summary(1, 2.0, 2.0, d1_3=1)}
    assert (globex["open_cases"], globex["closed_today"], globex["unique_bugs"], globex["bugs_no_target"]) == (
        2, 1, 3, 2,
    )  # fmt: skip
    assert globex["resolution_days"] == {"Normal": summary(2, 34.98, 34.98, d14_30=1, d30_90=1)}
    assert (ada["open_cases"], ada["closed_today"], ada["escalated"], ada["unique_bugs"]) == (1, 1, 1, 2)
    assert ada["relief_days"] == {"Urgent": summary(1, 2.0, 2.0, d1_3=1), "Normal": summary(1, 1.0, 1.0, d1_3=1)}
    assert (bob["open_cases"], bob["opened_today"], bob["total_escalations"], bob["bugs_no_target"]) == (2, 1, 2, 2)
    assert bob["by_customer"] == {"Acme": 1, "Globex": 1} and bob["by_engineer"] == {"bob": 2}


def test_it_keeps_relief_and_resolution_times_apart(world):
    stats = compute_day(day=DAY, dry_run=True)["account:Globex"]

    assert stats["relief_days"]["Normal"]["mean"] == 3.0
    assert stats["resolution_days"]["Normal"]["mean"] == 34.98


def test_it_replaces_the_day_when_run_again(world):
    first = run_job(job="stats", trigger="backfill", since=datetime.combine(DAY, time.min, tzinfo=UTC))
    again = run_job(job="stats", trigger="backfill", since=datetime.combine(DAY, time.min, tzinfo=UTC))

    rows = DailyStats.objects.filter(date=DAY)
    assert rows.count() == 5 and first.created == DailyStats.objects.count()
    assert (again.created, again.updated, again.unchanged) == (0, 0, first.created)

    Case.objects.filter(number="01000004").update(status="Closed", closed_at=at(0, 12))
    DailyStats.objects.create(date=DAY, scope="account:Gone", metrics={})
    compute_day(day=DAY, dry_run=False)

    assert set(rows.values_list("scope", flat=True)) == {"all", "account:Acme", "account:Globex", "engineer:ada",
                                                         "engineer:bob"}  # fmt: skip
    assert rows.get(scope="all").metrics["open_cases"] == 5
    assert rows.get(scope="all").metrics["closed_today"] == 2


def test_it_rebuilds_past_days_from_the_mirrored_history(world):
    since = datetime.combine(DAY - timedelta(days=1), time.min, tzinfo=UTC)
    run = run_job(job="stats", trigger="backfill", since=since)

    days = sorted(set(DailyStats.objects.values_list("date", flat=True)))
    assert days == [DAY + timedelta(days=n) for n in range(-1, 11)]
    day_before = DailyStats.objects.get(date=DAY - timedelta(days=1), scope="all").metrics
    assert (day_before["open_cases"], day_before["opened_today"], day_before["closed_today"]) == (6, 0, 0)
    assert day_before["by_status"]["(closed since)"] == 2  # cases 3 and 11 were still open
    two_days_later = DailyStats.objects.get(date=DAY + timedelta(days=2), scope="all").metrics
    assert (two_days_later["opened_today"], two_days_later["closed_today"]) == (1, 1)  # cases 6 and 11
    assert run.fetched == DailyStats.objects.count() and run.outcome == "success"


def test_it_computes_today_by_default(world):
    run_job(job="stats", trigger="manual")

    today = DailyStats.objects.get(date=timezone.now().date(), scope="all").metrics
    assert today["open_cases"] == 6  # A, B, E, J, K and the case created after DAY
    assert today["escalated"] == 2 and today["crit_sit"] == 1
    assert DailyStats.objects.values("date").distinct().count() == 1


def test_it_counts_no_updates_as_open_cases_without_any_update_for_a_week():
    now = timezone.now()
    case("01000001", account="Acme", severity=3, created=now - timedelta(days=30), updated=now - timedelta(days=8))
    case("01000002", account="Acme", severity=3, created=now - timedelta(days=30), updated=now - timedelta(days=1))

    assert compute_day(day=now.date(), dry_run=True)["all"]["no_updates"] == 1  # the predecessor counted the other


def test_it_writes_nothing_in_a_dry_run(world):
    run = run_job(job="stats", trigger="manual", dry_run=True, full=True)

    assert not DailyStats.objects.exists()
    assert run.fetched > 0


def test_it_runs_the_same_few_queries_however_many_cases(world):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            compute_day(day=DAY, dry_run=True)
        return len(captured)

    few = queries()
    for n in range(40):
        case(f"0200{n:04d}", account=f"Account {n % 7}", severity=n % 4 + 1, created=at(-n), engineer=f"eng{n % 5}",
             relief=at(-n, 15))  # fmt: skip
    assert queries() == few <= 15
