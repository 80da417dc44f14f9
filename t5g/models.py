from django.conf import settings
from django.db import models
from django.utils import timezone


class Mirrored(models.Model):
    """A row copied from an upstream.

    upstream_updated_at is the upstream's own "last modified" time, so a sync
    never overwrites a row with older data; synced_at is when T5G last saw it,
    so staleness can be shown.
    """

    upstream_updated_at = models.DateTimeField("updated upstream", null=True, blank=True, db_index=True)
    synced_at = models.DateTimeField("last seen", default=timezone.now)
    # Set when a full sync no longer finds the row upstream; the row stays for history and stats.
    removed_at = models.DateTimeField("left upstream", null=True, blank=True)

    class Meta:
        abstract = True


class SyncRun(models.Model):
    """One run of a sync or automation job, whatever started it."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule"
        MANUAL = "manual"
        BACKFILL = "backfill"
        WEBHOOK = "webhook"

    class Outcome(models.TextChoices):
        RUNNING = "running"
        SUCCESS = "success"
        RETRY = "retry", "failed, retrying"
        FAILED = "failed"

    # The job's name: its app declares it (t5g/sync/registry.py), and run_job refuses a name not declared.
    source = models.CharField("job", max_length=20)
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    full = models.BooleanField(default=False, help_text="A full reconcile rather than an incremental run.")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RUNNING)
    fetched = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0, help_text="Malformed upstream records skipped.")
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    # The newest upstream change this run read: where the job's next incremental run starts (t5g/sync/upsert.py).
    watermark = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["source", "-started_at"])]
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.source} {self.started_at:%Y-%m-%d %H:%M} {self.outcome}"

    @property
    def duration(self):
        return self.finished_at - self.started_at if self.finished_at else None


class FailingRecord(models.Model):
    """An upstream record a job could not read on its last try: restricted to our account, deleted, or an error
    of its own. The run goes on without it and its previous copy stays; it is retried on later runs, and the
    home page and /health/ show how many records each job cannot read, and since when (t5g/sync/failures.py)."""

    source = models.CharField("job", max_length=20)
    key = models.CharField(max_length=100, help_text="The case, bug or other record, as the job names it.")
    reason = models.TextField(help_text="What the upstream answered at the last try.")
    since = models.DateTimeField(default=timezone.now, help_text="First failure of this streak.")
    last_failed_at = models.DateTimeField(default=timezone.now)
    failures = models.PositiveIntegerField(default=1, help_text="Tries that failed in this streak.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "key"], name="failing_record_once_per_job")]
        ordering = ["source", "since"]

    def __str__(self) -> str:
        return f"{self.source} {self.key} failing since {self.since:%Y-%m-%d %H:%M}"


class Profile(models.Model):
    """Who a user is at the identity provider, and what it said about them at their last sign-in."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    # The IdP's stable id for this person (SAML_ATTRIBUTE_ID's value, or the persistent NameID): a SAML
    # sign-in reaches the user bound to it and no other, whatever their user names.
    saml_subject = models.CharField(
        max_length=255,
        unique=True,
        null=True,
        blank=True,
        help_text="The IdP's id for this person (SAML_ATTRIBUTE_ID); SAML sign-ins reach only this user.",
    )
    saml_attributes = models.JSONField(default=dict, blank=True)
    groups = models.JSONField(default=list, blank=True)
    # Set when a sign-in was refused because the person left the member groups (the user was made inactive
    # then); a later sign-in as a member makes them active again. An inactive user without it stays out.
    membership_ended_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Set by every SAML sign-in, which only team members complete (t5g/signins.py): API tokens lapse without it.
    # Not updated_at, which any save of the profile moves.
    member_signed_in_at = models.DateTimeField("last signed in as a member", null=True, blank=True, editable=False)

    def __str__(self) -> str:
        return str(self.user)


class UpstreamWrite(models.Model):
    """Every write T5G sends (or refused to send) upstream: the audit log."""

    class Outcome(models.TextChoices):
        SENT = "sent", "sent, no answer yet"
        OK = "ok"
        FAILED = "failed"
        UNKNOWN = "unknown", "unknown (no answer)"
        REFUSED = "refused", "refused: read-only mode"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    upstream = models.CharField(max_length=20, db_index=True)
    action = models.CharField(max_length=100, blank=True, help_text="What T5G meant to do.")
    target = models.CharField(max_length=100, blank=True, db_index=True, help_text="The case, card or bug.")
    method = models.CharField(max_length=10)
    url = models.TextField()
    run = models.ForeignKey(SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="writes")
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.SENT)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.upstream} {self.action or self.method} {self.target} {self.outcome}"


class Notification(models.Model):
    """One email or Slack message T5G sends: recorded first, then delivered and retried by a task (t5g/notify.py)."""

    class Kind(models.TextChoices):
        EMAIL = "email"
        SLACK = "slack"

    class Status(models.TextChoices):
        PENDING = "pending"
        # Claimed by one delivery: a message queued twice (a redelivery, the resend) is sent once.
        SENDING = "sending", "being sent"
        SENT = "sent"
        FAILED = "failed"

    kind = models.CharField(max_length=5, choices=Kind.choices)
    to = models.TextField(help_text="Email addresses (comma-separated) or a Slack channel.")
    subject = models.TextField(blank=True)
    body = models.TextField()
    # A Slack reply in the thread of an earlier message: it is sent after that one, with its ts.
    reply_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies", verbose_name="thread of"
    )
    slack_ts = models.CharField("Slack ts", max_length=32, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    attempted_at = models.DateTimeField("last attempt", null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to[:60]}: {(self.subject or self.body)[:60]} ({self.status})"

    @property
    def addresses(self) -> list[str]:
        return [a.strip() for a in self.to.split(",") if a.strip()]


class Refresh(models.Model):
    """A "refresh now": every source synced in order by one background task, its progress kept here so a
    page reload (or another user) attaches to it. At most one is queued or running at a time."""

    class State(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    task_id = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    phase = models.CharField(max_length=20, blank=True, help_text="The source being synced.")
    step = models.PositiveSmallIntegerField(default=0, help_text="Sources done.")
    steps = models.PositiveSmallIntegerField(default=0)
    # Progress inside the current phase (records), when the source reports it.
    current = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    # Bumped by every progress report: a refresh that stops reporting has lost its worker.
    updated_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    summary = models.JSONField(default=list, blank=True, help_text="Per source, in run order: counts or its error.")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["state"], condition=models.Q(state__in=["queued", "running"]), name="one_refresh_at_a_time"
            )
        ]

    def __str__(self) -> str:
        return f"refresh {self.pk} ({self.state})"

    @property
    def active(self) -> bool:
        return self.state in (self.State.QUEUED, self.State.RUNNING)

    @property
    def percent(self) -> int:
        if not self.steps:
            return 0
        if not self.active:
            return 100
        within = self.current / self.total if self.total else 0
        return min(99, int(100 * (self.step + within) / self.steps))
