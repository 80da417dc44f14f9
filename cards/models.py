from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from cases.models import Case, Severity
from t5g.models import Mirrored


class InternalStatus(models.TextChoices):
    """The team's own workflow; JIRA statuses map onto it (StatusMapping, edited in admin)."""

    NEW = "New"
    BACKLOG = "Backlog"
    DEBUGGING = "Debugging"
    ENG_WORKING = "Eng Working"
    BACKPORT = "Backport"
    READY_TO_CLOSE = "Ready To Close"
    BLOCKED = "Blocked"
    DONE = "Done"


class StatusMapping(models.Model):
    """Which internal status a JIRA status means. A JIRA status missing here leaves its cards flagged."""

    jira_status = models.CharField("JIRA status", max_length=50, unique=True)
    internal_status = models.CharField(max_length=20, choices=InternalStatus.choices)

    class Meta:
        ordering = ["jira_status"]

    def __str__(self) -> str:
        return f"{self.jira_status} → {self.internal_status}"


# The cards pages show: a case's active card, still in JIRA.
LIVE = models.Q(active=True, removed_at__isnull=True)


class Card(Mirrored):
    """The JIRA card the team works a case in. upstream_updated_at is JIRA's `updated`."""

    key = models.CharField(max_length=32, primary_key=True)
    jira_id = models.CharField("JIRA id", max_length=20, blank=True)
    # No database constraint: cards and cases come from different upstreams on
    # different schedules, so a card may arrive before its case.
    case = models.ForeignKey(
        Case, on_delete=models.DO_NOTHING, db_constraint=False, null=True, blank=True, related_name="cards"
    )
    active = models.BooleanField(default=True, help_text="The card the dashboard shows for its case.")
    summary = models.TextField(blank=True)
    jira_status = models.CharField("JIRA status", max_length=50)
    # Blank when the JIRA status is not in the map: kept and flagged, not dropped.
    status = models.CharField("internal status", max_length=20, choices=InternalStatus.choices, blank=True)
    created_at = models.DateTimeField(null=True, blank=True)
    assignee = models.CharField(max_length=200, blank=True)
    assignee_account_id = models.CharField(max_length=128, blank=True)
    contributors = models.JSONField(default=list, blank=True)
    priority = models.CharField(max_length=30, blank=True)
    severity = models.PositiveSmallIntegerField(choices=Severity.choices, null=True, blank=True)
    labels = models.JSONField(default=list, blank=True)
    sprint = models.CharField(max_length=200, blank=True)
    escalated = models.BooleanField(default=False)
    potential_escalation = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=models.Q(active=True), name="one_active_card_per_case")
        ]
        # The live active cards (the ones pages show), by case for the cases table's join and
        # internal-status facet, and by assignee for the engineer page: both answered from the index.
        indexes = [
            models.Index(fields=["status"]),
            models.Index(fields=["assignee"]),
            # Labels too: the Daily Telco and trends filters match them in every live card, from this index alone
            # (at 100,000 cards: 9 ms, against 23 ms reading each card).
            models.Index(
                fields=["case", "status", "active", "removed_at", "labels"], condition=LIVE, name="card_live_by_case"
            ),
            models.Index(
                fields=["assignee", "case", "status", "severity", "active", "removed_at"],
                condition=LIVE,
                name="card_live_by_assignee",
            ),
        ]

    def __str__(self) -> str:
        return self.key

    @property
    def status_unmapped(self) -> bool:
        return not self.status


class CardComment(Mirrored):
    id = models.CharField(max_length=32, primary_key=True)
    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="comments")
    author = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    # The body's wiki markup as safe HTML (t5g.markup.jira_to_html), made once by the render_comments job
    # (cards.services.render_comments): tens of ms a comment, too much for a page or the sync. None: not rendered
    # since the sync wrote the comment; "": no markup. Either way pages show the body as plain text.
    body_html = models.TextField("body as HTML", null=True, blank=True, editable=False)  # noqa: DJ001 - None: to do
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"comment {self.id} on {self.card_id}"


def account_patterns(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def validate_account_patterns(text: str) -> None:
    """A pattern is an account name, or a prefix then one * at its end."""
    for pattern in account_patterns(text):
        if "*" in pattern[:-1] or pattern == "*":
            raise ValidationError(
                f"“{pattern}”: * may only end a pattern, after at least one character (“Verizon*”); "
                "an exact account name has none."
            )


class TeamMember(models.Model):
    """An engineer cards are assigned to. Edited in admin."""

    name = models.CharField(max_length=200, unique=True)
    jira_user = models.CharField("JIRA user", max_length=200, blank=True)
    jira_account_id = models.CharField("JIRA account id", max_length=128, blank=True)
    email = models.EmailField(blank=True)
    slack_id = models.CharField("Slack id", max_length=64, blank=True)
    accounts = models.TextField(
        "account patterns",
        blank=True,
        validators=[validate_account_patterns],
        help_text="Customer accounts this engineer owns, one pattern a line: an account name (exact, any case), or "
        'a prefix ending in * ("Verizon*" owns "Verizon Wireless"). An exact name beats any prefix, and a '
        "longer prefix a shorter one; members with the same best pattern share its cases, the least loaded first.",
    )
    active = models.BooleanField(default=True, help_text="Untick while away: no new cards are assigned.")
    notify_on_case = models.BooleanField(
        "notified on case", default=True, help_text="Added as a notified user on the cases assigned to them."
    )
    # Breaks ties between members with as many open cards: the one assigned least recently goes first.
    last_assigned_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def account_list(self) -> list[str]:
        """The account patterns, one a line (see `accounts`)."""
        return account_patterns(self.accounts)


class CardIntent(models.Model):
    """T5G's record that it is creating (or created) the card of a case, written before JIRA is asked.

    One per case; a run claims it atomically, so two runs never create the same card, and an
    outcome left unknown (the create's answer was lost or unreadable) or failed is looked up in JIRA
    after a settle window before anything is retried (cards/automation.py).
    """

    class State(models.TextChoices):
        NEW = "new"
        PENDING = "pending", "being created"
        CREATED = "created"
        UNKNOWN = "unknown", "outcome unknown"
        FAILED = "failed"

    case = models.OneToOneField(Case, on_delete=models.CASCADE, primary_key=True, related_name="card_intent")
    state = models.CharField(max_length=10, choices=State.choices, default=State.NEW)
    key = models.CharField("card", max_length=32, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    run = models.ForeignKey("t5g.SyncRun", null=True, blank=True, on_delete=models.SET_NULL)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"card of {self.case_id}: {self.state}"
