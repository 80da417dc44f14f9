from django.db import models
from django.utils import timezone

from t5g.models import Mirrored


class Severity(models.IntegerChoices):
    URGENT = 1, "Urgent"
    HIGH = 2, "High"
    NORMAL = 3, "Normal"
    LOW = 4, "Low"


class Case(Mirrored):
    """A support case from the portal. upstream_updated_at is its last-modified time."""

    number = models.CharField(max_length=20, primary_key=True)
    owner = models.CharField(max_length=200, blank=True)
    severity = models.PositiveSmallIntegerField(choices=Severity.choices, db_index=True)
    account = models.CharField(max_length=255, blank=True, db_index=True)
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

    class Meta:
        ordering = ["-created_at"]

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
