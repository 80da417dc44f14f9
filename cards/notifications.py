"""What the team hears about new cards: an email digest, a Slack message per card, a warning when one fails.

Messages go through t5g.notify (recorded, queued, retried). Nothing here raises into the card
creation that calls it; what is not configured (no addresses, no channel) is skipped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q

from cases.models import Case, Severity
from t5g import notify
from t5g.links import jira_issue_url, portal_case_url
from t5g.models import Notification

from .models import Card, TeamMember

log = logging.getLogger(__name__)

HIGH_SEVERITIES = (Severity.URGENT, Severity.HIGH)
SLACK_TEXT_LIMIT = 39_000  # Slack refuses 40,000 characters and more (msg_too_long)
ERROR_LIMIT = 300


@dataclass(frozen=True)
class NewCard:
    """A new card with what its messages say: its case (when mirrored) and its assignee (when on the team)."""

    card: Card
    member: TeamMember | None

    @property
    def case(self) -> Case | None:
        return self.card.case

    @property
    def number(self) -> str:
        return self.card.case_id or self.card.key

    @property
    def severity(self) -> int | None:
        return self.case.severity if self.case else self.card.severity

    @property
    def jira_url(self) -> str:
        return jira_issue_url(self.card.key)

    @property
    def case_url(self) -> str:
        return portal_case_url(self.number)

    @property
    def assignee(self) -> str:
        return self.member.name if self.member else self.card.assignee or "not assigned"

    @property
    def mention(self) -> str:
        if self.member and self.member.slack_id:
            return f"<@{self.member.slack_id}>"
        return slack_escape(self.assignee)


# --- the two entry points (the card creation calls these) ---------------------------------------------------------
def new_cards(*, keys: list[str]) -> None:
    """After a run created cards: one email digest to NOTIFY_EMAILS, one Slack message per card by severity."""
    try:
        cards = load_new_cards(keys)
        if cards and settings.NOTIFY_EMAILS:
            notify.enqueue(
                kind=Notification.Kind.EMAIL, to=settings.NOTIFY_EMAILS, subject=digest_subject(cards),
                body=digest_body(cards),
            )  # fmt: skip
        for new in cards:
            announce(new)
    except Exception:  # noqa: BLE001 - a notification never breaks the card creation that triggered it
        log.exception("could not notify about new cards %s", ", ".join(keys))


def card_failed(*, case: Case, error: str) -> None:
    """A warning in SLACK_LOW_CHANNEL that a case's card could not be created."""
    if not settings.SLACK_LOW_CHANNEL:
        return
    try:
        link = slack_link(portal_case_url(case.number), case.number)
        notify.enqueue(
            kind=Notification.Kind.SLACK,
            to=settings.SLACK_LOW_CHANNEL,
            body=f":warning: Could not create a JIRA card for case {link} ({slack_escape(case.account)}, "
            f"{severity_label(case.severity)}).\nError: {slack_escape(trim(error, ERROR_LIMIT))}",
        )
    except Exception:  # noqa: BLE001
        log.exception("could not notify that the card of case %s failed", case.number)


# --- reading ----------------------------------------------------------------------------------------------------------
def load_new_cards(keys: list[str]) -> list[NewCard]:
    """The cards, with their cases and assignees, in two queries whatever their number; in the order given."""
    by_key = {c.key: c for c in Card.objects.filter(key__in=keys).select_related("case")}
    missing = [k for k in keys if k not in by_key]
    if missing:
        log.warning("new cards %s are not in the database: no notification about them", ", ".join(missing))
    cards = [by_key[k] for k in keys if k in by_key]
    members = team_members(cards)
    return [NewCard(card=c, member=members(c)) for c in cards]


def team_members(cards: list[Card]):
    """A card's assignee on the team: matched by JIRA account id, else by name."""
    ids = {c.assignee_account_id for c in cards if c.assignee_account_id}
    names = {c.assignee for c in cards if c.assignee}
    found = list(TeamMember.objects.filter(Q(jira_account_id__in=ids) | Q(name__in=names))) if ids or names else []
    by_id = {m.jira_account_id: m for m in found if m.jira_account_id}
    by_name = {m.name: m for m in found}

    def member(card: Card) -> TeamMember | None:
        return by_id.get(card.assignee_account_id) or by_name.get(card.assignee)

    return member


# --- the email digest -------------------------------------------------------------------------------------------------
def digest_subject(cards: list[NewCard]) -> str:
    return " ".join(filter(None, [settings.EMAIL_SUBJECT_PREFIX, "New cards:", ", ".join(c.number for c in cards)]))


def digest_body(cards: list[NewCard]) -> str:
    return "\n\n".join(digest_entry(c) for c in cards)


def digest_entry(new: NewCard) -> str:
    case = new.case
    return "\n".join([
        f"A JIRA card has been created for a new case: {new.jira_url}",
        "",
        f"Case: {new.number} ({new.case_url})",
        f"Account: {case.account if case else 'unknown'}",
        f"Summary: {case.summary if case else new.card.summary}",
        f"Severity: {severity_label(new.severity)}",
        f"Assignee: {new.assignee}",
        "Description:",
        case.description if case and case.description else "(none)",
        "=" * 40,
    ])  # fmt: skip


# --- Slack ------------------------------------------------------------------------------------------------------------
def announce(new: NewCard) -> None:
    """One message in the channel for the case's severity, the description as a threaded reply."""
    channel = settings.SLACK_HIGH_CHANNEL if new.severity in HIGH_SEVERITIES else settings.SLACK_LOW_CHANNEL
    if not channel:
        return
    message = notify.enqueue(kind=Notification.Kind.SLACK, to=channel, body=slack_message(new))
    if new.case and new.case.description.strip() and message.pk:
        reply = f"*Description of case {new.number}:*\n{slack_escape(new.case.description)}"
        notify.enqueue(kind=Notification.Kind.SLACK, to=channel, body=trim(reply, SLACK_TEXT_LIMIT), reply_to=message)


def slack_message(new: NewCard) -> str:
    case = new.case
    summary = case.summary if case else new.card.summary
    return (
        f"New card {slack_link(new.jira_url, new.card.key)} for case {slack_link(new.case_url, new.number)} "
        f"({severity_label(new.severity)}, {slack_escape(case.account if case else 'unknown account')})\n"
        f"*{slack_escape(summary)}*\n"
        f"Assigned to {new.mention}"
    )


def slack_link(url: str, text: str) -> str:
    return f"<{url}|{slack_escape(text)}>"


def slack_escape(text: str) -> str:
    """Slack reads &, < and > as markup (links, mentions): the customer's text must show as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- small helpers ----------------------------------------------------------------------------------------------------
def severity_label(severity: int | None) -> str:
    return Severity.label_of(severity) or "unknown severity"


def trim(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
