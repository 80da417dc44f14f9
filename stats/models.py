from django.db import models
from django.utils import timezone


class DailyStats(models.Model):
    """The team's metrics for one day, for the whole team or one account / engineer."""

    date = models.DateField()
    scope = models.CharField(max_length=255, default="all", help_text='"all", "account:<name>" or "engineer:<name>".')
    metrics = models.JSONField(default=dict)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["date", "scope"], name="one_stats_row_per_day_and_scope")]
        ordering = ["-date", "scope"]
        verbose_name_plural = "daily stats"

    def __str__(self) -> str:
        return f"{self.date} {self.scope}"
