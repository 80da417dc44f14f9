from django.db import models

from cases.models import Case
from t5g.models import Mirrored


class Escalation(Mirrored):
    """Why a case is escalated. One per escalated case; the strongest reason wins."""

    class Type(models.TextChoices):
        PRIO_LIST = "prio_list", "On prio-list"
        CRIT_SIT = "crit_sit", "Crit sit"
        POTENTIAL = "potential", "Potential escalation"

    case = models.OneToOneField(Case, on_delete=models.CASCADE, primary_key=True, related_name="escalation")
    type = models.CharField(max_length=20, choices=Type.choices, db_index=True)
    link = models.URLField(blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)
    source = models.CharField(max_length=100, blank=True, help_text="Where it was found, e.g. the board issue key.")

    def __str__(self) -> str:
        return f"{self.case_id} ({self.get_type_display()})"
