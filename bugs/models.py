from django.db import models

from cases.models import Case
from t5g.models import Mirrored


class Bug(Mirrored):
    """A Bugzilla bug linked to cases. upstream_updated_at is its last_change_time."""

    id = models.PositiveIntegerField(primary_key=True)
    summary = models.TextField(blank=True)
    status = models.CharField(max_length=30, blank=True)
    resolution = models.CharField(max_length=30, blank=True)
    severity = models.CharField(max_length=20, blank=True)
    priority = models.CharField(max_length=20, blank=True)
    component = models.CharField(max_length=200, blank=True)
    target_release = models.CharField(max_length=100, blank=True)
    assignee = models.CharField(max_length=200, blank=True)
    qa_contact = models.CharField("QA contact", max_length=200, blank=True)
    internal_whiteboard = models.TextField(blank=True)
    restricted = models.BooleanField(default=False, help_text="Bugzilla refuses T5G's key access to it.")
    cases = models.ManyToManyField(Case, related_name="bugs", blank=True)

    def __str__(self) -> str:
        return f"BZ {self.id}"

    @property
    def missing_target(self) -> bool:
        return self.target_release in ("", "---")


class Issue(Mirrored):
    """A JIRA bug linked to cases. upstream_updated_at is JIRA's `updated`."""

    key = models.CharField(max_length=32, primary_key=True)
    summary = models.TextField(blank=True)
    status = models.CharField(max_length=50, blank=True)
    priority = models.CharField(max_length=30, blank=True)
    severity = models.CharField(max_length=30, blank=True)
    issue_type = models.CharField(max_length=50, blank=True)
    assignee = models.CharField(max_length=200, blank=True)
    qa_contact = models.CharField("QA contact", max_length=200, blank=True)
    fix_versions = models.JSONField(default=list, blank=True)
    private_keywords = models.JSONField(default=list, blank=True)
    internal_whiteboard = models.TextField(blank=True)
    # Telco:Priority-N (1 the most urgent) from the private keywords, else from the Internal Whiteboard; None: none.
    telco_priority = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        db_index=True,
        help_text="From a “Telco:Priority-N” private keyword, else from the Internal Whiteboard; 1 is the most urgent.",
    )
    cases = models.ManyToManyField(Case, related_name="issues", blank=True)

    def __str__(self) -> str:
        return self.key
