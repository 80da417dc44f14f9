"""The sandbox's data: every upstream's records, generated deterministically from a seed.

One World holds what the support portal, JIRA and Bugzilla would know about a
field-support team: cases, the team's JIRA cards, linked Bugzilla bugs and JIRA
bugs, an escalation board, sprints and the team itself. The API modules
(portal.py, jira.py, bugzilla.py, ...) only render it in each upstream's format;
mutations go through World methods so every change bumps `version` and the
record's modified time, as the real systems do.

All access happens under `world.lock` (the server takes it around each handler).
"""

from __future__ import annotations

import copy
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from . import text

TEAM_TAG = "shift_telco5g"  # T5G's default query is case_tags:*shift_telco5g*
CARD_PROJECT = "KNIECO"
CARD_LABEL = "field"  # the label that marks the team's cards
BUG_PROJECT = "OCPBUGS"
ESCALATION_PROJECT = "RHOCPPRIO"
ESCALATION_LABEL = "Telco5g"
BOARD_NAME = "KNI-ECO Labs & Field"
SPRINT_PREFIX = "T5GFE"
COMPONENT = "KNI Labs & Field"
PORTAL_CASE_URL = "https://access.redhat.com/support/cases/#/case/{}"

OPEN_STATUSES = ["Waiting on Red Hat", "Waiting on Customer", "Waiting on Collaborations"]
OPEN_WEIGHTS = [50, 45, 5]
# JIRA status -> the share of cards in it, for open cases; closed cases' cards are mostly done.
OPEN_CARD_STATUSES = {
    "New": 5, "To Do": 15, "Open": 20, "In Progress": 25, "Code Review": 10,
    "QE Review": 8, "Blocked": 7, "Needs Info": 2,  # "Needs Info" is deliberately not in T5G's map
}  # fmt: skip
DONE_CARD_STATUSES = ["Done", "Closed", "Won't Fix / Obsolete"]
SEVERITY_NAMES = {1: "Urgent", 2: "High", 3: "Normal", 4: "Low"}
SEVERITY_TO_PRIORITY = {1: "Critical", 2: "Major", 3: "Normal", 4: "Minor"}


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class Comment:
    id: str
    author: str
    body: str
    created: datetime
    public: bool = True
    updated: datetime | None = None  # when edited


@dataclass
class Case:
    number: str
    account: str
    account_number: str
    owner: str
    severity: int
    status: str
    summary: str
    description: str
    product: str
    version: str
    tags: list[str]
    created: datetime
    modified: datetime
    closed: datetime | None = None
    bugzillas: list[int] = field(default_factory=list)
    jiras: list[str] = field(default_factory=list)  # linked JIRA bugs (and the escalation issue)
    crit_sit: bool = False
    group_name: str = ""
    notified_users: list[str] = field(default_factory=list)  # SSO user names
    relief_at: datetime | None = None
    resolved_at: datetime | None = None
    comments: list[Comment] = field(default_factory=list)
    # "restricted": our account may not see it (the per-case endpoints answer 403, search still lists it);
    # "deleted": gone (404, and out of search). Set through /_sandbox/cases/<n>/access.
    access: str = ""

    @property
    def is_open(self) -> bool:
        return self.status != "Closed"

    @property
    def on_team_query(self) -> bool:
        return self.access != "deleted" and any(TEAM_TAG in tag for tag in self.tags)


@dataclass
class User:
    account_id: str
    name: str  # the JIRA user name / SSO user name
    display_name: str
    email: str
    slack_id: str = ""
    accounts: list[str] = field(default_factory=list)  # customer accounts the engineer owns
    active: bool = True


@dataclass
class RemoteLink:
    id: int
    url: str
    title: str


@dataclass
class Sprint:
    id: int
    name: str
    state: str  # active, closed, future
    board_id: int
    start: datetime
    end: datetime


@dataclass
class JiraIssue:
    """Any JIRA issue: a team card, a linked bug or an escalation-board entry.

    `custom` holds custom fields by their *name* (Contributors, Severity, QA Contact,
    Private Keywords, SFDC Case Links, Internal Whiteboard, Release note text);
    jira.py maps names to customfield ids. Sprint membership is `sprint_ids`.
    """

    id: int
    key: str
    project: str
    issue_type: str
    summary: str
    description: str
    status: str
    priority: str
    created: datetime
    updated: datetime
    reporter: str  # account id
    assignee: str | None = None  # account id
    labels: list[str] = field(default_factory=list)
    components: list[str] = field(default_factory=list)
    fix_versions: list[str] = field(default_factory=list)
    custom: dict[str, object] = field(default_factory=dict)
    comments: list[Comment] = field(default_factory=list)
    remote_links: list[RemoteLink] = field(default_factory=list)
    sprint_ids: list[int] = field(default_factory=list)
    # Custom field ids not on this issue's screens (set through /_sandbox/issues/{key}/hidden-fields): absent from
    # its `fields`, and a write to one is refused, as JIRA does for a field its screens lack.
    hidden_fields: set[str] = field(default_factory=set)


@dataclass
class Bug:
    id: int
    summary: str
    status: str
    resolution: str
    severity: str
    priority: str
    product: str
    component: str
    target_release: str
    assigned_to: str
    qa_contact: str
    internal_whiteboard: str
    created: datetime
    last_change: datetime
    restricted: bool = False  # the API key may not see it
    comments: list[Comment] = field(default_factory=list)


class World:
    def __init__(self, *, cases: int = 500, seed: int = 1, jira_flavor: str = "cloud"):
        self.lock = threading.RLock()
        # Called with (webhook event, issue, comment or None) on every issue change: JIRA's webhooks.
        self.issue_listeners: list = []
        self.jira_flavor = jira_flavor  # "cloud" (search/jql, nextPageToken) or "server" (search, startAt)
        self.version = 0  # bumped by every mutation; caches key on it
        # Numbers of changed cases, in order: the portal's search index applies them incrementally.
        self.case_changes: list[str] = []
        # Keys of added or touched JIRA issues, in order: the JIRA search index applies them incrementally.
        self.issue_changes: list[str] = []
        self.issue_change_times: list[float] = []  # time.monotonic() of each, for a lagging search index
        # While a search lags (the search_lag fault), the issue's state after each change (by its position in
        # issue_changes), taken when the request that made it ends: what a lagging search shows until it catches up.
        self.issue_states: dict[int, JiraIssue] = {}
        self._keep_issue_states = False
        self._unsealed: list[int] = []
        self.rng = random.Random(seed)
        self.seed = seed
        self.cases: dict[str, Case] = {}
        self.users: dict[str, User] = {}  # by account id
        self.issues: dict[str, JiraIssue] = {}  # every JIRA issue by key
        self.issue_ids: dict[int, str] = {}  # numeric id -> key
        self.sprints: dict[int, Sprint] = {}
        self.boards = [{"id": 1, "name": BOARD_NAME, "type": "scrum", "project": CARD_PROJECT}]
        self.bugs: dict[int, Bug] = {}
        self.notified: list[tuple[str, str]] = []  # (case, user) from POST notifiedusers
        self.slack_messages: list[dict] = []
        self.tokens: dict[str, float] = {}  # SSO bearer token -> expiry (epoch seconds)
        self._next = {"case": 3_000_000, "bug": 2_100_000, "jira_id": 100_000, "comment": 5_000_000, "link": 1}
        self._project_seq: dict[str, int] = {}
        self._generate(cases)

    # --- ids ---------------------------------------------------------------------
    def next_id(self, kind: str) -> int:
        self._next[kind] += 1
        return self._next[kind]

    def _next_key(self, project: str) -> str:
        self._project_seq[project] = self._project_seq.get(project, 0) + 1
        return f"{project}-{self._project_seq[project]}"

    def changed(self) -> None:
        self.version += 1

    # --- generation ------------------------------------------------------------------
    def _generate(self, n: int) -> None:
        rng = self.rng
        t0 = now()
        self._make_team()
        self._make_sprints(t0)
        accounts = text.accounts(rng)
        weights = [a[2] for a in accounts]
        bug_pool = [self._make_bug(rng, t0) for _ in range(max(5, n // 5))]
        jira_bug_pool = [self._make_jira_bug(rng, t0) for _ in range(max(5, n // 7))]
        team = [u for u in self.users.values() if u.slack_id]

        # Cases over two years, oldest first, with some outside the team's query.
        span = timedelta(days=730)
        total = n + n // 20
        team_cases = 0
        # A few recent open cases lost their card (created while card creation was down):
        # with the cases of the last two hours, they are what T5G must create cards for.
        cardless = set(rng.sample(range(total - total // 25, total), k=min(3, total // 25)))
        for i in range(total):
            created = t0 - span + span * (i + rng.random()) / total
            created = min(created, t0 - timedelta(minutes=5)).replace(microsecond=0)
            on_query = team_cases < n and (rng.random() > 0.05 or total - i <= n - team_cases)
            team_cases += on_query
            account, account_number, _ = rng.choices(accounts, weights)[0]
            case = self._make_case(rng, t0, created, account, account_number, on_query)
            if rng.random() < 0.3:
                case.bugzillas = sorted({rng.choice(bug_pool).id for _ in range(rng.randint(1, 3))})
            if rng.random() < 0.2:
                case.jiras = sorted({rng.choice(jira_bug_pool).key for _ in range(rng.randint(1, 2))})
            self.cases[case.number] = case
            if on_query and created < t0 - timedelta(hours=2) and not (i in cardless and case.is_open):
                self._make_card(rng, case, team, t0)

        self._make_escalations(rng, t0)

    def _make_team(self) -> None:
        for i, (name, display, accounts, active) in enumerate(text.TEAM):
            user = User(
                account_id=f"5b10a2844c20165700ede{i:03d}",
                name=name,
                display_name=display,
                email=f"{name}@example.com",
                slack_id=f"U0{i:02d}T5G",
                accounts=accounts,
                active=active,
            )
            self.users[user.account_id] = user
        for i, (name, display) in enumerate(text.OTHER_USERS):
            user = User(f"6c20b3955d31276811fef{i:03d}", name, display, f"{name}@example.com")
            self.users[user.account_id] = user

    def _make_sprints(self, t0: datetime) -> None:
        start = t0 - timedelta(days=t0.weekday() + 7)  # sprints are two weeks, Monday to Monday
        for n in range(6, 0, -1):
            s = start - timedelta(days=14 * n)
            self.sprints[100 + n] = Sprint(
                100 + n, f"{SPRINT_PREFIX} Sprint {60 - n}", "closed", 1, s, s + timedelta(14)
            )
        # Another team's active sprint on the same board, listed first: picking "the first
        # active sprint" is wrong; T5G must choose by name.
        self.sprints[99] = Sprint(99, "Labs Infra Sprint 12", "active", 1, start, start + timedelta(14))
        self.sprints[200] = Sprint(200, f"{SPRINT_PREFIX} Sprint 60", "active", 1, start, start + timedelta(14))
        self.sprints[201] = Sprint(
            201, f"{SPRINT_PREFIX} Sprint 61", "future", 1, start + timedelta(14), start + timedelta(28)
        )

    @property
    def active_sprint(self) -> Sprint:
        return self.sprints[200]

    def _make_case(self, rng, t0, created, account, account_number, on_query) -> Case:
        number = f"{self.next_id('case'):08d}"
        severity = rng.choices([1, 2, 3, 4], [5, 25, 50, 20])[0]
        age_days = (t0 - created).days
        closed = None
        # Older cases are mostly closed; recent ones mostly open.
        if rng.random() < min(0.92, age_days / 120):
            closed = created + timedelta(hours=rng.uniform(2, max(3, age_days * 24 * 0.8)))
        status = "Closed" if closed else rng.choices(OPEN_STATUSES, OPEN_WEIGHTS)[0]
        modified = closed or min(t0, created + timedelta(hours=rng.uniform(0, max(1, age_days * 24))))
        tags = [f"{TEAM_TAG}", "telco"] if on_query else ["cnv"]
        if rng.random() < 0.3:
            tags.append(rng.choice(["ran", "5gc", "ptp", "sriov", "upgrade"]))
        product, version = rng.choice(text.PRODUCTS)
        case = Case(
            number=number,
            account=account,
            account_number=account_number,
            owner=rng.choice(text.SUPPORT_OWNERS),
            severity=severity,
            status=status,
            summary=text.summary(rng),
            description=text.description(rng),
            product=product,
            version=version,
            tags=tags,
            created=created,
            modified=modified.replace(microsecond=0),
            closed=closed.replace(microsecond=0) if closed else None,
            group_name=rng.choice(text.GROUPS) if rng.random() < 0.6 else "",
            notified_users=rng.sample(text.SSO_USERS, k=rng.randint(0, 2)),
        )
        case.crit_sit = case.is_open and rng.random() < 0.01
        if rng.random() < 0.7:
            case.relief_at = created + timedelta(hours=rng.expovariate(1 / (24 * severity)))
            if case.relief_at > t0:
                case.relief_at = None
        if closed:
            case.resolved_at = closed
        for _ in range(rng.choices([0, 1, 2, 3, 5, 8], [10, 25, 25, 20, 15, 5])[0]):
            at = created + (case.modified - created) * rng.random()
            case.comments.append(
                Comment(
                    str(self.next_id("comment")),
                    rng.choice(text.SUPPORT_OWNERS),
                    text.comment(rng),
                    at.replace(microsecond=0),
                    rng.random() < 0.8,
                )
            )
        case.comments.sort(key=lambda c: c.created)
        return case

    def _make_card(self, rng, case: Case, team: list[User], t0: datetime, *, status: str | None = None) -> JiraIssue:
        owner = next((u for u in team if case.account in u.accounts), None) or rng.choice(team)
        if status is None:
            if case.is_open:
                status = rng.choices(list(OPEN_CARD_STATUSES), list(OPEN_CARD_STATUSES.values()))[0]
            else:
                # Some cards of closed cases are never closed: "case closed, card not done".
                status = rng.choice(DONE_CARD_STATUSES) if rng.random() < 0.93 else "Open"
        created = case.created + timedelta(minutes=rng.randint(10, 70))
        updated = max(created, case.modified - timedelta(minutes=rng.randint(0, 600)))
        card = self.add_issue(
            project=CARD_PROJECT,
            issue_type="Story",
            summary=f"{case.number}: {case.summary}",
            description=text.card_description(case),
            status=status,
            priority=SEVERITY_TO_PRIORITY[case.severity],
            created=created,
            updated=min(updated, t0),
            reporter=rng.choice(team).account_id,
            assignee=owner.account_id,
            labels=[CARD_LABEL, "cnf"]
            + (["PotentialEscalation"] if case.is_open and rng.random() < 0.02 else [])
            + (["Trends"] if rng.random() < 0.03 else []),
            components=[COMPONENT],
            custom={
                "Severity": SEVERITY_NAMES[case.severity],
                "Contributors": [u.account_id for u in rng.sample(team, k=rng.randint(0, 2))],
                "SFDC Case Links": [PORTAL_CASE_URL.format(case.number)],
            },
        )
        card.sprint_ids = [self.active_sprint.id] if case.is_open else [rng.choice([101, 102, 103, 104, 105, 106])]
        card.remote_links.append(RemoteLink(self.next_id("link"), PORTAL_CASE_URL.format(case.number), "Support Case"))
        for _ in range(rng.choices([0, 1, 2, 4], [20, 35, 30, 15])[0]):
            at = created + (card.updated - created) * rng.random()
            card.comments.append(
                Comment(
                    str(self.next_id("comment")),
                    rng.choice(team).account_id,
                    text.comment(rng),
                    at.replace(microsecond=0),
                )
            )
        card.comments.sort(key=lambda c: c.created)
        return card

    def _make_bug(self, rng, t0) -> Bug:
        created = t0 - timedelta(days=rng.uniform(1, 900))
        status = rng.choice(["NEW", "ASSIGNED", "POST", "MODIFIED", "ON_QA", "VERIFIED", "CLOSED"])
        bug = Bug(
            id=self.next_id("bug"),
            summary=text.bug_summary(rng),
            status=status,
            resolution="ERRATA" if status == "CLOSED" else "",
            severity=rng.choice(["urgent", "high", "medium", "low", "unspecified"]),
            priority=rng.choice(["urgent", "high", "medium", "low", "unspecified"]),
            product="OpenShift Container Platform",
            component=rng.choice(["Networking", "Node", "Installer", "Etcd", "Monitoring"]),
            target_release=rng.choice(["---", "4.16.z", "4.17.0", "4.18.z", "4.19.0"]),
            assigned_to=f"{rng.choice(text.ENGINEERS)}@redhat.com",
            qa_contact=f"{rng.choice(text.ENGINEERS)}@redhat.com",
            internal_whiteboard=rng.choice(["", "", "Telco", "Telco Telco:Case", "NetworkEdge"]),
            created=created.replace(microsecond=0),
            last_change=(created + (t0 - created) * rng.random()).replace(microsecond=0),
            restricted=rng.random() < 0.03,
        )
        self.bugs[bug.id] = bug
        return bug

    def _make_jira_bug(self, rng, t0) -> JiraIssue:
        created = t0 - timedelta(days=rng.uniform(1, 900))
        others = [u for u in self.users.values() if not u.slack_id]
        bug = self.add_issue(
            project=BUG_PROJECT,
            issue_type="Bug",
            summary=text.bug_summary(rng),
            description=text.description(rng),
            status=rng.choice(["New", "Assigned", "POST", "ON_QA", "Verified", "Closed"]),
            priority=rng.choice(["Critical", "Major", "Normal", "Minor"]),
            created=created,
            updated=created + (t0 - created) * rng.random(),
            reporter=rng.choice(others).account_id,
            assignee=rng.choice(others).account_id,
            fix_versions=rng.choice([[], ["4.16.z"], ["4.18.0"], ["4.17.z", "4.18.z"]]),
            custom={
                "Severity": rng.choice(["Critical", "Important", "Moderate", "Low"]),
                "QA Contact": rng.choice(others).account_id,
                "Private Keywords": rng.choice([[], ["Telco"], ["Telco", "Telco:Case"]]),
                "Internal Whiteboard": "",
            },
        )
        # Telco priorities, from the issue's number (not the generator: the rest of the world stays as it was):
        # "Telco:Priority-N" among the private keywords of some, in the Internal Whiteboard of some without any.
        n = bug.id
        if bug.custom["Private Keywords"] and n % 3 == 0:
            bug.custom["Private Keywords"] = [*bug.custom["Private Keywords"], f"Telco:Priority-{1 + n % 4}"]
        elif not bug.custom["Private Keywords"] and n % 4 == 0:
            bug.custom["Internal Whiteboard"] = f"Telco Telco:Priority-{1 + n % 3}"
        return bug

    def _make_escalations(self, rng, t0) -> None:
        open_cases = [c for c in self.cases.values() if c.is_open and c.on_team_query]
        for case in rng.sample(open_cases, k=max(1, len(open_cases) // 50)):
            self._escalate(case, rng, t0, closed=False)
        closed_cases = [c for c in self.cases.values() if not c.is_open and c.on_team_query]
        for case in rng.sample(closed_cases, k=min(len(closed_cases), max(1, len(open_cases) // 200))):
            self._escalate(case, rng, t0, closed=True)  # closed entries are no longer escalations

    def _escalate(self, case: Case, rng, t0, *, closed: bool) -> JiraIssue:
        created = max(case.created, t0 - timedelta(days=rng.uniform(0.5, 60)))
        entry = self.add_issue(
            project=ESCALATION_PROJECT,
            issue_type="Task",
            summary=f"[{case.account}] {case.summary}",
            description="Escalated by the account team.",
            status="Closed" if closed else rng.choice(["New", "In Progress"]),
            priority="Critical",
            created=created,
            updated=created,
            reporter=rng.choice(list(self.users)),
            labels=[ESCALATION_LABEL] + (["Telco-PM"] if rng.random() < 0.5 else []),
            custom={"SFDC Case Links": [PORTAL_CASE_URL.format(case.number)]},
        )
        case.jiras = sorted({*case.jiras, entry.key})
        return entry

    # --- mutations -------------------------------------------------------------------------
    def add_issue(
        self, *, project: str, created: datetime | None = None, updated: datetime | None = None, **fields
    ) -> JiraIssue:
        jira_id = self.next_id("jira_id")
        created = (created or now()).replace(microsecond=0)
        issue = JiraIssue(
            id=jira_id,
            key=self._next_key(project),
            project=project,
            created=created,
            updated=(updated or created).replace(microsecond=0),
            **fields,
        )
        self.issues[issue.key] = issue
        self.issue_ids[issue.id] = issue.key
        self._issue_changed(issue)
        return issue

    def touch_case(self, case: Case) -> None:
        case.modified = max(now(), case.modified + timedelta(seconds=1))
        self.case_changes.append(case.number)
        self.changed()

    def touch_issue(self, issue: JiraIssue, *, comment: Comment | None = None) -> None:
        """`issue` changed; with `comment`, by that comment's arrival (JIRA's webhooks tell the two apart)."""
        issue.updated = max(now(), issue.updated + timedelta(seconds=1))
        self._issue_changed(issue, "comment_created" if comment else "jira:issue_updated", comment)

    def _issue_changed(
        self, issue: JiraIssue, event: str = "jira:issue_created", comment: Comment | None = None
    ) -> None:
        for listener in self.issue_listeners:  # JIRA's webhooks (sandbox/webhooks.py); called under the lock
            listener(event, issue, comment)
        if self._keep_issue_states:
            self._unsealed.append(len(self.issue_changes))
        self.issue_changes.append(issue.key)
        self.issue_change_times.append(time.monotonic())
        self.changed()

    def keep_issue_states(self, keep: bool) -> None:
        """Keep each change's issue state (for a lagging search), or stop and forget them."""
        self._keep_issue_states = keep
        if not keep:
            self.issue_states.clear()
            self._unsealed.clear()

    def seal_issue_changes(self) -> None:
        """Record the state of the issues changed since the last call: called when a request (or a churn) ends, so
        a state is a request's whole change (a create's fields are set after the issue is added)."""
        states: dict[str, JiraIssue] = {}
        for position in self._unsealed:
            key = self.issue_changes[position]
            if key not in states:
                states[key] = _copy_issue(self.issues[key])
            self.issue_states[position] = states[key]
        self._unsealed.clear()

    def touch_bug(self, bug: Bug) -> None:
        bug.last_change = max(now(), bug.last_change + timedelta(seconds=1))
        self.changed()

    def create_case(self, **fields) -> Case:
        rng = self.rng
        t0 = now()
        account, account_number, _ = rng.choice(text.accounts(rng))
        case = self._make_case(rng, t0, t0, fields.pop("account", account), account_number, True)
        case.status, case.closed, case.resolved_at, case.relief_at = "Waiting on Red Hat", None, None, None
        case.comments = []
        for name, value in fields.items():
            setattr(case, name, value)
        self.cases[case.number] = case
        self.touch_case(case)
        return case

    def set_case_access(self, number: str, access: str) -> Case:
        """Restrict, delete or restore a case. Not a change of the case (its modified time stays), but the
        search index follows it: a deleted case leaves the results, a restored one comes back."""
        case = self.cases[number]
        case.access = access
        self.case_changes.append(case.number)
        self.changed()
        return case

    def close_case(self, number: str) -> Case:
        case = self.cases[number]
        case.status = "Closed"
        case.closed = case.resolved_at = now()
        self.touch_case(case)
        return case

    def reopen_case(self, number: str) -> Case:
        case = self.cases[number]
        case.status = "Waiting on Red Hat"
        case.resolved_at = None  # the closed date stays: the portal keeps when it was last closed
        self.touch_case(case)
        return case

    def set_card_status(self, key: str, status: str) -> JiraIssue:
        issue = self.issues[key]
        issue.status = status
        self.touch_issue(issue)
        return issue

    def add_case_comment(self, number: str, body: str, *, author: str = "", public: bool = True) -> Comment:
        """A portal comment on a case, as a support engineer adds one; the case's change brings it to T5G."""
        case = self.cases[number]
        comment = Comment(str(self.next_id("comment")), author or text.SUPPORT_OWNERS[0], body, now(), public)
        case.comments.append(comment)
        self.touch_case(case)
        return comment

    def add_issue_comment(self, key: str, body: str, *, author: str = "") -> Comment:
        """A JIRA comment on an issue by `author` (an account id; the issue's assignee by default)."""
        issue = self.issues[key]
        comment = Comment(str(self.next_id("comment")), author or issue.assignee or issue.reporter, body, now())
        issue.comments.append(comment)
        self.touch_issue(issue, comment=comment)
        return comment

    def edit_issue_comment(self, key: str, comment_id: str, body: str | None) -> Comment | None:
        """A JIRA comment edited (`body`) or deleted (None), as its author would; the issue's change brings it to
        T5G. None when the issue has no such comment."""
        issue = self.issues[key]
        comment = next((c for c in issue.comments if c.id == comment_id), None)
        if comment is None:
            return None
        if body is None:
            issue.comments.remove(comment)
        else:
            # A later time than the last, as JIRA's (whole seconds here) would be for an edit a moment after.
            comment.body = body
            comment.updated = max(now(), (comment.updated or comment.created) + timedelta(seconds=1))
        self.touch_issue(issue)
        return comment

    def retitle_bug(self, bug_id: int, summary: str) -> Bug:
        bug = self.bugs[bug_id]
        bug.summary = summary
        self.touch_bug(bug)
        return bug

    def cards(self) -> list[JiraIssue]:
        return [i for i in self.issues.values() if i.project == CARD_PROJECT and CARD_LABEL in i.labels]

    def churn(self, count: int) -> list[str]:
        """Change `count` random records the way a working day does. Returns what changed."""
        rng = self.rng
        team_cases = [c for c in self.cases.values() if c.on_team_query]
        open_cases = [c for c in team_cases if c.is_open]
        cards_by_case = {}
        for card in self.cards():
            cards_by_case[card.summary.split(":", 1)[0]] = card
        changed = []
        for _ in range(count):
            kind = rng.choices(
                ["status", "comment", "new", "close", "card", "card_comment", "bug"], [20, 30, 8, 8, 15, 14, 5]
            )[0]
            if kind == "new" or not open_cases:
                case = self.create_case()
                changed.append(f"new case {case.number}")
                continue
            case = rng.choice(open_cases)
            card = cards_by_case.get(case.number)
            if kind == "status":
                case.status = rng.choice([s for s in OPEN_STATUSES if s != case.status])
                self.touch_case(case)
                changed.append(f"case {case.number} status {case.status}")
            elif kind == "comment":
                case.comments.append(
                    Comment(str(self.next_id("comment")), rng.choice(text.SUPPORT_OWNERS), text.comment(rng), now())
                )
                self.touch_case(case)
                changed.append(f"case {case.number} comment")
            elif kind == "close":
                self.close_case(case.number)
                open_cases.remove(case)
                changed.append(f"case {case.number} closed")
            elif kind in ("card", "card_comment") and card:
                comment = None
                if kind == "card":
                    card.status = rng.choice([s for s in OPEN_CARD_STATUSES if s != card.status])
                else:
                    comment = Comment(
                        str(self.next_id("comment")), card.assignee or card.reporter, text.comment(rng), now()
                    )
                    card.comments.append(comment)
                self.touch_issue(card, comment=comment)
                changed.append(f"card {card.key} {kind}")
            elif kind == "bug" and case.bugzillas:
                bug = self.bugs[rng.choice(case.bugzillas)]
                bug.status = rng.choice(["ASSIGNED", "POST", "MODIFIED", "ON_QA"])
                self.touch_bug(bug)
                changed.append(f"bug {bug.id} {bug.status}")
            else:
                case.severity = rng.choice([s for s in (1, 2, 3, 4) if s != case.severity])
                self.touch_case(case)
                changed.append(f"case {case.number} severity {case.severity}")
        return changed

    # --- what a complete sync mirrors ------------------------------------------------------------
    def state(self) -> dict:
        team_cases = [c for c in self.cases.values() if c.on_team_query]
        bug_ids = {b for c in team_cases for b in c.bugzillas}
        issue_keys = {k for c in team_cases for k in c.jiras if k.startswith(BUG_PROJECT + "-")}
        board = {
            link.rsplit("/", 1)[-1]
            for i in self.issues.values()
            if i.project == ESCALATION_PROJECT and ESCALATION_LABEL in i.labels and i.status != "Closed"
            for link in i.custom.get("SFDC Case Links", [])
        }
        escalated = {c.number for c in team_cases if c.crit_sit or c.number in board}
        return {
            "cases": len(team_cases),
            "open_cases": sum(c.is_open for c in team_cases),
            "cards": len(self.cards()),
            "bugs": len(bug_ids),
            "issues": len(issue_keys),
            "escalations": len(escalated),
        }


def _copy_issue(issue: JiraIssue) -> JiraIssue:
    """The issue as it is now: its lists and dicts copied; the records in them (comments, remote links) shared,
    which is enough for what a search matches and shows."""
    state = copy.copy(issue)
    for name, value in vars(issue).items():
        if isinstance(value, list | dict):
            setattr(state, name, copy.copy(value))
    return state
