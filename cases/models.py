from django.db import models
from django.utils import timezone

from t5g.models import Mirrored


class Severity(models.IntegerChoices):
    URGENT = 1, "Urgent"
    HIGH = 2, "High"
    NORMAL = 3, "Normal"
    LOW = 4, "Low"

    @classmethod
    def label_of(cls, value: object) -> str | None:
        """The label of a severity given as a number or as text (2 or "2" → "High"); None for anything else,
        which each caller shows its own way (upstream data may hold a value the choices do not)."""
        try:
            return cls(int(value)).label
        except (TypeError, ValueError):
            return None


class Case(Mirrored):
    """A support case from the portal. upstream_updated_at is its last-modified time."""

    number = models.CharField(max_length=20, primary_key=True)
    owner = models.CharField(max_length=200, blank=True)
    # Indexed through Meta.indexes, where each leads an index.
    severity = models.PositiveSmallIntegerField(choices=Severity.choices)
    account = models.CharField(max_length=255, blank=True)
    summary = models.TextField("problem", blank=True)
    status = models.CharField(max_length=50, db_index=True)
    product = models.CharField(max_length=200, blank=True)
    product_version = models.CharField(max_length=50, blank=True)
    description = models.TextField(blank=True)
    tags = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # When T5G saw the case go from Closed back to open: its old card is reopened, not duplicated.
    reopened_at = models.DateTimeField(null=True, blank=True)
    # The case's last-modified time when its JIRA links were last read, and when that was:
    # the issues sync re-reads links of cases that changed since (or whose copy is old).
    jira_links_seen = models.DateTimeField(null=True, blank=True, editable=False)
    jira_links_read_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The internal status of the case's active card, copied here by the card sync (cards.services.set_card_status)
    # so the internal-status counts read one index instead of joining every case to its card: None without a card,
    # "" when the card's JIRA status is not mapped.
    card_status = models.CharField(max_length=20, null=True, blank=True, editable=False)  # noqa: DJ001 - None is not ""

    class Meta:
        ordering = ["-created_at"]
        # Covering indexes for the cases table (cases/selectors.py) and the account and engineer pages
        # (reports/selectors.py), so that their counts and sorts read an index from end to end instead of
        # every (large) case row:
        # - in case-number order: the join to each case's card, the days-open sort, lookups by number,
        #   an engineer's open cases found from their cards, the facets of the cases a search matched;
        # - in severity order: the default sort stops after the first page's severities;
        # - in product, in card status and in account order: their facets group without sorting; an account's page
        #   reads its open cases, most severe and most recently updated first, from the index alone.
        indexes = [
            models.Index(
                fields=[
                    "number",
                    "status",
                    "removed_at",
                    "severity",
                    "created_at",
                    "closed_at",
                    "upstream_updated_at",
                    "product",
                    "account",
                    "card_status",
                ],
                name="case_table_number",
            ),
            models.Index(
                fields=["severity", "status", "removed_at", "created_at", "closed_at"], name="case_table_severity"
            ),
            # In the default order's (severity, then number for all but the few flagged cases): its sort reads the
            # severities in order and sorts only as many as the page needs (at 100,000 cases, page 3 of all cases:
            # 246 -> 92 ms cold), and covers the plain views' filters.
            models.Index(
                fields=["severity", "number", "status", "removed_at", "account", "product"], name="case_table_page"
            ),
            models.Index(
                fields=["product", "status", "removed_at", "severity", "created_at"], name="case_table_product"
            ),
            models.Index(
                fields=["card_status", "status", "removed_at", "severity", "created_at"], name="case_table_card_status"
            ),
            models.Index(
                fields=["account", "status", "removed_at", "severity", "upstream_updated_at", "created_at", "number"],
                name="case_table_account",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_closed(self) -> bool:
        return self.status == "Closed"

    @property
    def days_open(self) -> int:
        return ((self.closed_at or timezone.now()) - self.created_at).days


class Detail(Mirrored):
    """What the portal's per-case endpoint adds to a case."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, primary_key=True, related_name="detail")
    crit_sit = models.BooleanField("crit sit", default=False)
    group_name = models.CharField(max_length=200, blank=True)
    notified_users = models.JSONField(default=list, blank=True)
    relief_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # The few crit sits, for the cases table's crit sit filter and facet.
        indexes = [
            models.Index(
                fields=["case"], condition=models.Q(crit_sit=True, removed_at__isnull=True), name="detail_crit_sit"
            )
        ]

    def __str__(self) -> str:
        return f"details of {self.case_id}"


class CaseComment(Mirrored):
    id = models.CharField(max_length=64, primary_key=True)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="comments")
    author = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    public = models.BooleanField(default=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"comment {self.id} on {self.case_id}"


class SlaPartner(models.Model):
    """A partner account with agreed resolution times: the cases table colours its cases' age against them.

    Edited in admin. Days are per case severity; other accounts are never coloured.
    """

    account = models.CharField(max_length=255, unique=True)
    urgent_days = models.PositiveSmallIntegerField(default=14)
    high_days = models.PositiveSmallIntegerField(default=20)
    normal_days = models.PositiveSmallIntegerField(default=90)
    low_days = models.PositiveSmallIntegerField(default=180)

    class Meta:
        ordering = ["account"]
        verbose_name = "SLA partner"

    def __str__(self) -> str:
        return self.account

    def days_for(self, severity: int) -> int | None:
        return {1: self.urgent_days, 2: self.high_days, 3: self.normal_days, 4: self.low_days}.get(severity)
