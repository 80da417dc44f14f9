"""Portal → JIRA: exactly one card per new case, reopened cases' cards back, priority in step with severity.

Never a duplicate: before creating, the case is looked up in JIRA; the intent to create is
written to the database first (CardIntent, one per case, claimed atomically). A create that
failed after it was sent is *unknown* unless JIRA refused it (UpstreamError.refused: a 4xx, by
status, never by the error's text): a 502 from a proxy, a malformed or cut-off answer, a timeout
may each come after JIRA made the card. Unknown and failed intents alike wait out a settle window
(CARD_INTENT_SETTLE_MINUTES, longer than JIRA's search lags its writes) and are looked up again
before anything is tried again. "Could not create" is said only when a lookup proved there is no card.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from cases.models import Case, Severity
from t5g.clients.http import UpstreamError
from t5g.clients.jira import JiraClient, jira_client, jira_escape
from t5g.clients.portal import portal_client
from t5g.clients.writes import ReadOnlyError, write_context
from t5g.links import bugzilla_bug_url, portal_case_url
from t5g.models import SyncRun
from t5g.sync.batches import Progress, Throttled, no_progress, parse_all

from . import notifications
from .assignment import Assigner
from .models import Card, CardIntent, InternalStatus, TeamMember
from .services import CardFields, parse_card, status_map, store_cards

log = logging.getLogger(__name__)


class SafetyValve(Exception):
    """More new cases than MAX_NEW_CARDS at once: something upstream is probably wrong; nothing is created."""


@dataclass
class Plan:
    new: list[Case] = field(default_factory=list)
    reopen: list[tuple[Case, Card]] = field(default_factory=list)


# --- what to do ------------------------------------------------------------------------------------------
def plan() -> Plan:
    """New cases (open, on the query, no card ever, no card promised) and reopened cases whose card is done."""
    open_cases = Case.objects.filter(removed_at__isnull=True).exclude(status="Closed")
    has_card = Exists(Card.objects.filter(case=OuterRef("pk")))
    promised = Exists(CardIntent.objects.filter(case=OuterRef("pk"), state=CardIntent.State.CREATED))
    new = list(open_cases.filter(~has_card, ~promised).order_by("created_at"))
    reopen = []
    reopened = open_cases.filter(has_card, reopened_at__isnull=False).exclude(
        Exists(Card.objects.filter(case=OuterRef("pk"), active=True).exclude(status=InternalStatus.DONE))
    )
    for case in reopened:
        card = Card.objects.filter(case=case).order_by("-active", "-created_at").first()
        if card.upstream_updated_at is None or card.upstream_updated_at < case.reopened_at:
            reopen.append((case, card))
    return Plan(new=new, reopen=reopen)


def describe(p: Plan, assigner: Assigner) -> list[str]:
    lines = [
        f"create a card for {c.number} ({c.account}, {Severity(c.severity).label}) → {who(assigner.choose(c))}"
        for c in p.new
    ]
    return lines + [f"reopen {card.key} for reopened case {case.number}" for case, card in p.reopen]


def who(member: TeamMember | None) -> str:
    return member.name if member else "nobody (no active team member)"


# --- the job ---------------------------------------------------------------------------------------------------
def create_cards(
    *, run: SyncRun, full: bool = False, since: datetime | None = None, dry_run: bool = False,
    progress: Progress = no_progress,
) -> None:  # fmt: skip
    """Create the missing cards (hourly and on demand); see the module docstring for how duplicates are avoided."""
    todo = plan()
    if len(todo.new) > settings.MAX_NEW_CARDS:
        raise SafetyValve(
            f"{len(todo.new)} new cases at once, more than MAX_NEW_CARDS ({settings.MAX_NEW_CARDS}): "
            "no card created; check the case query, then raise MAX_NEW_CARDS or create them by hand"
        )
    run.fetched = len(todo.new) + len(todo.reopen)
    if dry_run or settings.READ_ONLY or not run.fetched:
        if settings.READ_ONLY and run.fetched:
            log.info("read-only: not creating %s card(s) nor reopening %s", len(todo.new), len(todo.reopen))
        run.unchanged = run.fetched
        return
    creator = CardCreator(run=run)
    report = Throttled(progress)
    for done, (case, card) in enumerate(todo.reopen, 1):
        creator.reopen(case, card)
        report(done, run.fetched, "reopening cards")
    for done, case in enumerate(todo.new, len(todo.reopen) + 1):
        creator.create(case)
        report(done, run.fetched, "creating cards")
    if creator.created:
        keys = list(creator.created)
        transaction.on_commit(lambda: notifications.new_cards(keys=keys))
    if creator.failures:
        raise UpstreamError(f"{len(creator.failures)} card(s) not created: {'; '.join(creator.failures)[:500]}")


# A card JIRA last changed this soon after its creation has not been worked on by a person yet.
UNTOUCHED = timedelta(minutes=1)


class CardCreator:
    def __init__(self, *, run: SyncRun):
        self.run = run
        self.client: JiraClient = jira_client()
        self.fields = CardFields.of(self.client)
        self.statuses = status_map()
        self.assigner = Assigner()
        self.sprint_id = self._sprint_id()
        self.failures: list[str] = []
        self.created: list[str] = []

    def _sprint_id(self) -> int | None:
        """The board's active sprint named for the team: another team may have an active sprint on the same board."""
        sprint = self.client.active_sprint(board=settings.JIRA_BOARD, name=settings.JIRA_SPRINT)
        if sprint is None:
            log.warning(
                "no active sprint named %r on board %r: new cards go to the backlog",
                settings.JIRA_SPRINT, settings.JIRA_BOARD,
            )  # fmt: skip
        return sprint

    # --- one new case -------------------------------------------------------------------------------------
    def create(self, case: Case) -> None:
        intent = claim(case, self.run)
        if intent is None:
            return  # another run holds it, or its last attempt is too fresh to judge (JIRA's search lags)
        try:
            existing = self.find(case)
        except UpstreamError as exc:
            # Nothing was sent, and nothing is known: no warning. A case never tried goes back to new; one
            # whose earlier create may have worked stays unknown, to be looked up again.
            release(intent, state=CardIntent.State.UNKNOWN if intent.attempts else None, error=str(exc))
            self.failures.append(f"{case.number}: {exc}")
            return
        if existing:
            self.adopt(intent, case, existing)
            return
        member = self.assigner.choose(case)
        try:
            with write_context(action="create card", target=case.number, run=self.run):
                issue = self.client.create_issue(self.card_fields(case, member))
        except ReadOnlyError:
            release(intent, state=None)
            raise
        except UpstreamError as exc:
            self.failures.append(f"{case.number}: {exc}")
            if exc.refused:
                # JIRA said no (or was never reached), and the lookup just before found no card: there is none.
                release(intent, state=CardIntent.State.FAILED, error=str(exc), attempted=True)
                notifications.card_failed(case=case, error=str(exc))
            else:
                # Sent, with no clear answer: JIRA may have made the card. The lookup after the settle window tells.
                release(intent, state=CardIntent.State.UNKNOWN, error=str(exc), attempted=True)
            return
        release(intent, state=CardIntent.State.CREATED, key=issue["key"], attempted=True)
        self.run.created += 1
        self.finish(case, issue["key"], member)

    def find(self, case: Case) -> list[dict]:
        """The case's cards in JIRA (even a stale mirror or a lost answer cannot hide one)."""
        found = self.client.cards_for_case(case.number, fields=self.fields.wanted)
        return [i for i in found if str(i.get("fields", {}).get("summary", "")).startswith(case.number)]

    def adopt(self, intent: CardIntent, case: Case, issues: list[dict]) -> None:
        newest = max(issues, key=lambda i: i.get("fields", {}).get("created", ""))
        key = newest.get("key", "")
        log.info("case %s already has card %s in JIRA: recorded, none created", intent.case_id, key)
        self.store(issues)
        release(intent, state=CardIntent.State.CREATED, key=key, attempted=True)
        self.run.unchanged += 1
        if intent.attempts:
            # Our own create, whose answer was lost: none of the steps after it ran. A person may have worked on
            # the card since (the settle window is minutes long): then it keeps the status they gave it.
            card = Card.objects.get(pk=key)
            member = TeamMember.objects.filter(jira_account_id=card.assignee_account_id or None).first()
            untouched = card.upstream_updated_at - card.created_at < UNTOUCHED
            self.finish(case, key, member, move=untouched)

    def finish(self, case: Case, key: str, member: TeamMember | None, *, move: bool = True) -> None:
        """After the create: sprint, initial status (unless `move` is off), links, the notified user. Each step may
        fail alone."""
        case_url = portal_case_url(case.number)
        steps = [
            ("add to sprint", lambda: self.sprint_id and self.client.add_to_sprint(self.sprint_id, [key])),
            *([("move to initial status", lambda: self.client.transition_to(key, settings.JIRA_INITIAL_STATUS))]
              if move else []),
            ("link support case", lambda: self.client.add_link(key, case_url, "Support Case")),
        ]  # fmt: skip
        for bug in case.bugs.values_list("id", flat=True):
            url = bugzilla_bug_url(bug)
            steps.append(("link bug", lambda url=url, bug=bug: self.client.add_link(key, url, f"BZ {bug}")))
        if member and member.notify_on_case and member.jira_user:
            notify = lambda: portal_client().add_notified_user(case.number, member.jira_user)  # noqa: E731
            steps.append(("add notified user", notify))
        for action, step in steps:
            try:
                with write_context(action=action, target=key, run=self.run):
                    step()
            except (UpstreamError, ReadOnlyError) as exc:
                log.warning("card %s for case %s: could not %s: %s", key, case.number, action, exc)
        if member:
            TeamMember.objects.filter(pk=member.pk).update(last_assigned_at=timezone.now())
        # By key, not by search: JIRA's search may not show the new card yet, and it is mirrored (and announced) now.
        self.store([self.client.issue(key, self.fields.wanted)])
        self.created.append(key)

    def store(self, issues: list[dict]) -> None:
        """Mirror cards now, as the card sync would: the dashboard shows a new card at once.

        Counted on a scratch run: this run counts cards created, not rows written.
        """
        scratch = SyncRun(source="cards")
        parse = lambda i: parse_card(i, fields=self.fields, statuses=self.statuses)  # noqa: E731
        parsed = parse_all(issues, parse, run=scratch, what="new cards")
        store_cards(parsed, run=scratch, dry_run=False)

    def card_fields(self, case: Case, member: TeamMember | None) -> dict:
        summary = f"{case.number}: {case.summary}"
        fields = {
            "project": {"key": settings.JIRA_PROJECT},
            "issuetype": {"name": settings.JIRA_ISSUE_TYPE},
            "summary": summary if len(summary) <= 255 else summary[:254] + "…",
            "description": card_description(case),
            "priority": {"name": settings.SEVERITY_PRIORITIES[case.severity]},
            "labels": [settings.JIRA_CARD_LABEL, *settings.JIRA_LABELS],
            self.fields.severity: {"value": Severity(case.severity).label},
        }
        if settings.JIRA_COMPONENT:
            fields["components"] = [{"name": settings.JIRA_COMPONENT}]
        if member and member.jira_account_id:
            fields["assignee"] = {"accountId": member.jira_account_id}
        return {**settings.JIRA_CREATE_EXTRA_FIELDS, **fields}

    # --- a reopened case ---------------------------------------------------------------------------------------
    def reopen(self, case: Case, card: Card) -> None:
        steps = [
            ("add to sprint", lambda: self.sprint_id and self.client.add_to_sprint(self.sprint_id, [card.key])),
            ("reopen card", lambda: self.client.transition_to(card.key, settings.JIRA_INITIAL_STATUS)),
            ("comment on reopened card", lambda: self.client.add_comment(
                card.key,
                f"Case {case.number} was reopened, so T5G reopened this card, its card from before, rather than "
                "creating a new one.",
            )),
        ]  # fmt: skip
        for action, step in steps:
            try:
                with write_context(action=action, target=card.key, run=self.run):
                    step()
            except UpstreamError as exc:
                self.failures.append(f"{card.key}: could not {action}: {exc}")
                return
        self.run.updated += 1
        self.store([self.client.issue(card.key, self.fields.wanted)])  # as it is now, not as the search has it


def card_description(case: Case) -> str:
    """The whole case description, inert: JIRA markup in it is shown, not interpreted."""
    body = case.description.replace("{noformat}", "{ noformat}")
    return (
        f"This card was created by T5G for support case {case.number}.\n\n"
        f"*Account:* {jira_escape(case.account)}\n"
        f"*Severity:* {Severity(case.severity).label}\n"
        f"*Case status:* {jira_escape(case.status)}\n"
        f"*Case:* {portal_case_url(case.number)}\n\n"
        f"*Description:*\n{{noformat}}\n{body}\n{{noformat}}"
    )


# --- the intent ------------------------------------------------------------------------------------------------------
def claim(case: Case, run: SyncRun) -> CardIntent | None:
    """Take the case's intent for this run, atomically: at most one run ever works on a case's card.

    An intent that was tried (unknown, failed, or pending in a run that died) waits out the settle window
    first: until JIRA's search shows what that try made, a lookup could miss the card and make a second.
    """
    CardIntent.objects.get_or_create(case=case)
    settle = timezone.now() - timedelta(minutes=settings.CARD_INTENT_SETTLE_MINUTES)
    tried = [CardIntent.State.UNKNOWN, CardIntent.State.FAILED, CardIntent.State.PENDING]
    claimable = Q(state=CardIntent.State.NEW) | (Q(state__in=tried) & Q(updated_at__lt=settle))
    taken = CardIntent.objects.filter(claimable, case=case).update(
        state=CardIntent.State.PENDING, run=run, updated_at=timezone.now()
    )
    return CardIntent.objects.get(case=case) if taken else None


def release(intent: CardIntent, *, state: str | None, key: str = "", error: str = "", attempted: bool = False) -> None:
    """Leave the intent in `state` (None: new again); `attempted` when a create was sent (or a card adopted)."""
    CardIntent.objects.filter(pk=intent.pk).update(
        state=state or CardIntent.State.NEW,
        key=key,
        error=error[:2000],
        attempts=intent.attempts + attempted,
        updated_at=timezone.now(),
    )


# --- priority sync ------------------------------------------------------------------------------------------------
def cards_out_of_step() -> list[tuple[Card, str]]:
    """Active cards not done whose priority is not their case severity's (SEVERITY_PRIORITIES)."""
    cards = (
        Card.objects.filter(active=True, removed_at__isnull=True, case__isnull=False, case__removed_at__isnull=True)
        .exclude(status=InternalStatus.DONE)
        .select_related("case")
        .only("key", "priority", "case__severity")
    )
    wanted = settings.SEVERITY_PRIORITIES
    return [(card, wanted[card.case.severity]) for card in cards if card.priority != wanted[card.case.severity]]


def sync_priority(
    *, run: SyncRun, full: bool = False, since: datetime | None = None, dry_run: bool = False,
    progress: Progress = no_progress,
) -> None:  # fmt: skip
    """Daily: each card whose priority differs from its case's severity gets one write, and only those."""
    todo = cards_out_of_step()
    run.fetched = len(todo)
    if dry_run or settings.READ_ONLY or not todo:
        if settings.READ_ONLY and todo:
            log.info("read-only: not updating the priority of %s card(s)", len(todo))
        run.unchanged = len(todo)
        return
    client = jira_client()
    report = Throttled(progress)
    failures = []
    for done, (card, priority) in enumerate(todo, 1):
        try:
            with write_context(action=f"set priority {priority}", target=card.key, run=run):
                client.update_fields(card.key, {"priority": {"name": priority}})
        except UpstreamError as exc:
            failures.append(f"{card.key}: {exc}")
            continue
        Card.objects.filter(pk=card.pk).update(priority=priority)
        run.updated += 1
        report(done, len(todo), "card priorities")
    if failures:
        raise UpstreamError(f"{len(failures)} priority update(s) failed: {'; '.join(failures)[:500]}")
