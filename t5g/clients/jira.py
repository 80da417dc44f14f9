"""JIRA through the `jira` library: searches that page through everything, custom fields found by name.

Reads return plain dicts (REST v2 JSON). `JiraClient.jira` is the library object, for writes.
The helpers at the end read JIRA's JSON shapes strictly (a malformed value raises RecordError).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests
from django.conf import settings
from jira import JIRA, JIRAError

from t5g.clients.records import RecordError, chunks, text

from .http import UpstreamError, client_time, never_sent, retrying_session, settle_environment, timeout

log = logging.getLogger(__name__)
T = TypeVar("T")

# Cloud answers at most 100 issues a page when fields are asked for; Server up to 1000 (its own cap may be lower).
CLOUD_PAGE = 100
SERVER_PAGE = 500
# A Server read that finds its results moved under it this many times in a row fails (and is retried later).
SERVER_RESTARTS = 3
KEYS_PER_QUERY = 100
ISSUE_KEY = re.compile(r"^[A-Z][A-Z0-9_]*-\d+\Z", re.ASCII)  # \Z: "$" would let a final newline through
MISSING_KEY = re.compile(r"issue with key '([^']+)' does not exist", re.IGNORECASE)
# SFDC Case Links holds portal case URLs (".../support/cases/#/case/03012345"), one a line, or bare numbers.
CASE_LINK = re.compile(r"/case/(\d{8})\b|(?<![\d/])(\d{8})(?!\d)", re.ASCII)


_END = object()


class JqlRejected(UpstreamError):
    """JIRA refused a search (HTTP 400): a bad query, or a key it does not have."""

    def __init__(self, message: str, messages: list[str]):
        super().__init__(message, status=400)
        self.messages = messages


def _call(fn: Callable[[], T], what: str) -> T:
    """Run one library call, turning its failures (HTTP, transport, malformed JSON) into UpstreamError."""
    try:
        with client_time():
            return fn()
    except JIRAError as exc:
        if exc.status_code == 400:
            messages = _error_messages(exc)
            raise JqlRejected(f"{what}: HTTP 400 {'; '.join(messages)[:300]}", messages) from exc
        raise UpstreamError(f"{what}: HTTP {exc.status_code} {str(exc.text)[:200]!r}", status=exc.status_code) from exc
    except requests.RequestException as exc:
        raise UpstreamError(f"{what}: {type(exc).__name__}: {exc}", sent=not never_sent(exc)) from exc
    except ValueError as exc:  # an answer that is not JSON
        raise UpstreamError(f"{what}: {type(exc).__name__}: {exc}") from exc


def _error_messages(exc: JIRAError) -> list[str]:
    try:
        body = exc.response.json()
        return [str(m) for m in body.get("errorMessages", [])] + [str(m) for m in body.get("errors", {}).values()]
    except (AttributeError, ValueError):
        return [str(exc.text)]


def _connect(url: str, token: str) -> JIRA:
    # The library's ResilientSession retries only 429 and 503, sleeping 20-60 s a time, and never a timeout or
    # another 5xx. It is switched off (max_retries=0) and our adapter retries instead: fast, bounded, with
    # backoff and Retry-After, idempotent methods only (a create is never sent twice). The adapter is mounted
    # before the first request, so the server-info call (made by hand, not by the constructor) is retried too.
    jira = JIRA(server=url, token_auth=token, timeout=timeout(), max_retries=0, get_server_info=False)
    adapter = retrying_session(url=url, upstream="jira").get_adapter(url)
    jira._session.mount("http://", adapter)
    jira._session.mount("https://", adapter)
    settle_environment(jira._session, url)
    info = jira.server_info()
    if not isinstance(info, dict) or not isinstance(info.get("versionNumbers"), list):
        raise UpstreamError(f"JIRA server info: unexpected answer {str(info)[:200]!r}")
    # What the constructor does with get_server_info=True: searches choose their API by deploymentType.
    jira.deploymentType = info.get("deploymentType")
    jira._version = tuple(info["versionNumbers"])
    return jira


class JiraClient:
    def __init__(self, *, url: str, token: str):
        self.url = url
        self.jira = _call(lambda: _connect(url, token), "JIRA server info")
        self._field_ids: dict[str, list[str]] | None = None
        self._zone: ZoneInfo | None = None

    @property
    def is_cloud(self) -> bool:
        return self.jira.deploymentType == "Cloud"

    # --- fields and times ---------------------------------------------------------------------------
    def field(self, name: str) -> str:
        """A custom field's id, by its name (JIRA_FIELDS overrides); ids differ between JIRA sites."""
        if configured := settings.JIRA_FIELDS.get(name):
            return configured
        if self._field_ids is None:
            self._field_ids = self._load_fields()
        ids = self._field_ids.get(name, [])
        if len(ids) != 1:
            problem = f"ambiguous ({', '.join(ids)})" if ids else "not found"
            raise UpstreamError(f"JIRA field {name!r} is {problem}: name its id in JIRA_FIELDS")
        return ids[0]

    def _load_fields(self) -> dict[str, list[str]]:
        found = _call(self.jira.fields, "JIRA fields")
        if not isinstance(found, list) or not all(isinstance(f, dict) and "id" in f for f in found):
            raise UpstreamError("JIRA fields: expected a list of fields")
        by_name: dict[str, list[str]] = {}
        for f in found:
            by_name.setdefault(str(f.get("name")), []).append(str(f["id"]))
        return by_name

    def jql_time(self, at: datetime) -> str:
        """A JQL date: JIRA reads it in the searching user's time zone, to the minute (so this floors)."""
        if self._zone is None:
            me = _call(self.jira.myself, "JIRA user")
            name = me.get("timeZone") if isinstance(me, dict) else None
            try:
                self._zone = ZoneInfo(name) if name else ZoneInfo("UTC")
            except (ZoneInfoNotFoundError, ValueError):
                log.warning("JIRA: unknown time zone %r for our user; assuming UTC", name)
                self._zone = ZoneInfo("UTC")
        return at.astimezone(self._zone).strftime("%Y-%m-%d %H:%M")

    # --- search -------------------------------------------------------------------------------------------
    def search(self, jql: str, fields: list[str]) -> Iterator[tuple[int | None, list[dict]]]:
        """Every issue matching `jql`, a page at a time: (the total when JIRA says it (Server), issues).

        A page with fewer issues than JIRA promised is an error, not the end.
        """
        pages = self._cloud_pages if self.is_cloud else self._server_pages
        yield from _read_ahead(pages(jql, fields))

    def _cloud_pages(self, jql: str, fields: list[str]) -> Iterator[tuple[int | None, list[dict]]]:
        token = None
        while True:
            body = _call(
                lambda t=token: self.jira.enhanced_search_issues(
                    jql, nextPageToken=t, maxResults=CLOUD_PAGE, fields=list(fields), json_result=True
                ),
                "JIRA search",
            )
            issues = _issues_of(body)
            token = body.get("nextPageToken")
            if token is not None and not isinstance(token, str):
                raise UpstreamError("JIRA search: malformed nextPageToken")
            # Only a page before the last can be seen to be short: the last one has no promise to keep.
            if token and len(issues) < CLOUD_PAGE:
                raise UpstreamError(f"JIRA search: truncated page ({len(issues)} of {CLOUD_PAGE} issues)")
            yield None, issues
            if not token:
                return

    def _server_pages(self, jql: str, fields: list[str]) -> Iterator[tuple[int | None, list[dict]]]:
        """startAt counts positions: an issue that moves from before a page's start (changed, in a sort by
        `updated`) or leaves the results shifts the rest up, and one would never be read. So each page after the
        first starts one early, at the issue the last page ended on (the anchor), and continues after wherever the
        anchor now is; when it is not there (it changed or left itself), the read starts again."""
        start, anchor, restarts = 0, None, 0
        while True:
            at = max(0, start - 1) if anchor else start
            total, issues = self._server_page(jql, fields, at=at, size=SERVER_PAGE + (1 if anchor else 0))
            if anchor:
                keys = [i.get("key") for i in issues]
                if anchor not in keys and at > 0:  # moved back: look in the page before
                    at = max(0, at - SERVER_PAGE)
                    total, issues = self._server_page(jql, fields, at=at, size=start - at + 1)
                    keys = [i.get("key") for i in issues]
                if anchor not in keys:
                    restarts += 1
                    if restarts > SERVER_RESTARTS:
                        raise UpstreamError(f"JIRA search: the results kept changing during {restarts} reads")
                    log.info("JIRA search: results changed under the read (%s left its place): reading again", anchor)
                    start, anchor = 0, None
                    continue
                skip = keys.index(anchor) + 1
                start, issues = at + skip, issues[skip:]
            yield total, issues
            start += len(issues)
            if start >= total or not issues:
                return
            anchor = issues[-1].get("key")

    def _server_page(self, jql: str, fields: list[str], *, at: int, size: int) -> tuple[int, list[dict]]:
        """One page: (total, issues). A page with fewer issues than JIRA promised is an error, not the end."""
        body = _call(
            lambda: self.jira.search_issues(jql, startAt=at, maxResults=size, fields=list(fields), json_result=True),
            "JIRA search",
        )
        issues = _issues_of(body)
        try:
            total, size = int(body["total"]), int(body.get("maxResults", size))
        except (KeyError, TypeError, ValueError) as exc:
            raise UpstreamError(f"JIRA search: unexpected answer ({exc!r})") from exc
        expected = max(0, min(size, total - at))
        if len(issues) < expected or (not issues and at < total):
            raise UpstreamError(f"JIRA search: truncated page ({len(issues)} of {expected} issues)")
        return total, issues

    def issues_by_key(
        self, keys: list[str], fields: list[str], *, within: str | None = None
    ) -> tuple[list[dict], list[str]]:
        """The issues with these keys (among those `within`, a JQL filter, matches), and the keys JIRA does not
        have (rather than failing their query)."""
        found: list[dict] = []
        missing: list[str] = []
        for batch in chunks(keys, KEYS_PER_QUERY):
            invalid = [k for k in batch if not ISSUE_KEY.match(k)]
            if invalid:
                raise ValueError(f"not issue keys: {invalid}")  # never let a value become JQL
            while batch:
                try:
                    jql = f"key in ({', '.join(batch)})"
                    jql = f"({within}) AND {jql}" if within else jql
                    found += [i for _, page in self.search(jql, fields) for i in page]
                    break
                except JqlRejected as exc:
                    gone = {k.upper() for m in exc.messages for k in MISSING_KEY.findall(m)} & set(batch)
                    if not gone:
                        raise
                    missing += sorted(gone)
                    batch = [k for k in batch if k not in gone]
        return found, missing

    def issue(self, key: str, fields: list[str]) -> dict:
        """One issue by key, as it is now: read from JIRA's database, not its search index, which lags its writes."""
        if not ISSUE_KEY.match(key):
            raise ValueError(f"not an issue key: {key!r}")
        issue = _call(lambda: self.jira.issue(key, fields=",".join(fields)), f"JIRA {key}")
        return issue.raw

    # --- lookups for card creation ------------------------------------------------------------------------
    def cards_for_case(self, number: str, *, fields: list[str]) -> list[dict]:
        """Cards of the team's project whose summary names the case (what JIRA's text search finds)."""
        if not re.fullmatch(r"\d{8}", number):
            raise ValueError(f"not a case number: {number!r}")  # never let a value become JQL
        jql = f'project = {settings.JIRA_PROJECT} AND summary ~ "{number}"'
        return [issue for _, page in self.search(jql, fields) for issue in page]

    def active_sprint(self, *, board: str, name: str) -> int | None:
        """The id of the board's newest active sprint whose name contains `name`."""
        boards = _call(lambda: self.jira.boards(name=board), "JIRA boards")
        exact = [b for b in boards if b.name == board]
        if not exact:
            raise UpstreamError(f"JIRA board {board!r} not found (JIRA_BOARD)")
        sprints = _call(lambda: self.jira.sprints(exact[0].id, state="active"), "JIRA sprints")
        named = [s for s in sprints if name.casefold() in s.name.casefold()]
        newest = max(named, key=lambda s: (getattr(s, "startDate", "") or "", s.id), default=None)
        return newest.id if newest else None

    # --- writes (guarded and recorded by the session: t5g/clients/writes.py) -----------------------------------------
    def create_issue(self, fields: dict) -> dict:
        """One POST; a failure's `status` is the create's own. (The library's prefetch would GET the issue
        next, and a failure of that read would pass for the create's.) See UpstreamError.refused."""
        issue = _call(lambda: self.jira.create_issue(fields=fields, prefetch=False), "JIRA create issue")
        return {"key": issue.key, "id": issue.id}

    def add_to_sprint(self, sprint_id: int, keys: list[str]) -> None:
        _call(lambda: self.jira.add_issues_to_sprint(sprint_id, keys), f"JIRA add {keys} to sprint {sprint_id}")

    def transition_to(self, key: str, status: str) -> bool:
        """Move an issue to `status` through the workflow's transition to it; False when already there."""
        transitions = _call(lambda: self.jira.transitions(key), f"JIRA transitions of {key}")
        match = [
            t for t in transitions if t.get("to", {}).get("name", t.get("name", "")).casefold() == status.casefold()
        ]
        if not match:
            current = _call(lambda: self.jira.issue(key, fields="status"), f"JIRA {key}").fields.status.name
            if current.casefold() == status.casefold():
                return False
            raise UpstreamError(f"JIRA {key}: no transition from {current!r} to {status!r}")
        _call(lambda: self.jira.transition_issue(key, match[0]["id"]), f"JIRA transition {key} to {status}")
        return True

    def add_link(self, key: str, url: str, title: str) -> None:
        # add_simple_link: add_remote_link first asks for application links, which only admins may read.
        _call(lambda: self.jira.add_simple_link(key, {"url": url, "title": title}), f"JIRA link on {key}")

    def add_comment(self, key: str, body: str) -> None:
        _call(lambda: self.jira.add_comment(key, body), f"JIRA comment on {key}")

    def update_fields(self, key: str, fields: dict) -> None:
        """One PUT of the given fields (the library's Issue.update would first GET the issue)."""
        url = f"{self.url}/rest/api/2/issue/{key}"
        response = _call(lambda: self.jira._session.put(url, json={"fields": fields}), f"JIRA update {key}")
        if response.status_code >= 400:
            raise UpstreamError(f"JIRA update {key}: HTTP {response.status_code} {response.text[:200]!r}")

    # --- webhooks (an administrator's API: Server/DC and Cloud's /rest/webhooks/1.0) ------------------------------
    def _webhooks_call(self, method: str, path: str = "", **kwargs) -> Any:
        url = f"{self.url}/rest/webhooks/1.0/webhook{path}"
        what = f"JIRA webhooks {method}"
        response = _call(lambda: getattr(self.jira._session, method.lower())(url, **kwargs), what)
        if response.status_code >= 400:
            raise UpstreamError(f"{what}: HTTP {response.status_code} {response.text[:200]!r}",
                                status=response.status_code)  # fmt: skip
        return _call(response.json, what) if response.content else None

    def webhooks(self) -> list[dict]:
        found = self._webhooks_call("GET")
        if not isinstance(found, list):
            raise UpstreamError("JIRA webhooks: expected a list")
        return [w for w in found if isinstance(w, dict)]

    def register_webhook(self, *, name: str, url: str, events: list[str], jql: str, secret: str) -> dict:
        body = {"name": name, "url": url, "events": events, "filters": {"issue-related-events-section": jql},
                "excludeBody": False, "enabled": True, "secret": secret}  # fmt: skip
        return self._webhooks_call("POST", json=body)

    def remove_webhook(self, hook_id: str) -> None:
        if not re.fullmatch(r"\d+", hook_id):
            raise ValueError(f"not a webhook id: {hook_id!r}")
        self._webhooks_call("DELETE", f"/{hook_id}")


def jira_escape(value: str) -> str:
    """Text for JIRA wiki markup, shown as typed: markup characters are escaped."""
    return re.sub(r"([*_?+^~{}\[\]|!#\\-])", r"\\\1", value)


def _read_ahead(pages: Iterator[T]) -> Iterator[T]:
    """Yield pages while the next one is read in a thread: the caller's work overlaps the wait on JIRA."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        ahead = pool.submit(next, pages, _END)
        while (page := ahead.result()) is not _END:
            ahead = pool.submit(next, pages, _END)
            yield page


def _issues_of(body: Any) -> list[dict]:
    issues = body.get("issues") if isinstance(body, dict) else None
    if not isinstance(issues, list) or not all(isinstance(i, dict) for i in issues):
        raise UpstreamError("JIRA search: unexpected answer (no list of issues)")
    return issues


def jira_client() -> JiraClient:
    if not settings.JIRA_URL:
        raise UpstreamError("JIRA is not configured: set JIRA_URL and its credentials")
    return JiraClient(url=settings.JIRA_URL, token=settings.JIRA_TOKEN)


# --- reading JIRA's JSON ------------------------------------------------------------------------------------
def fields_of(issue: dict) -> dict:
    fields = issue.get("fields")
    if not isinstance(fields, dict):
        raise RecordError("fields: expected an object")
    return fields


def issue_key(issue: dict) -> str:
    key = str(issue.get("key") or "")
    if not ISSUE_KEY.match(key):
        raise RecordError(f"key: not an issue key: {issue.get('key')!r}")
    return key


def _object(value, field: str) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise RecordError(f"{field}: expected an object, got {type(value).__name__}")
    return value


def name_of(value, *, field: str, key: str = "name", max_length: int | None = None) -> str:
    """The name of a status, priority, issue type, version (or the value of a select option)."""
    found = _object(value, field)
    return text(found.get(key), field=field, max_length=max_length) if found else ""


def user_of(value, *, field: str) -> dict:
    """A user object as {"name": display name, "id": account id (Cloud) or user name (Server), "email"}."""
    found = _object(value, field) or {}
    return {
        "name": text(found.get("displayName"), field=field, max_length=200),
        "id": text(found.get("accountId") or found.get("name"), field=field, max_length=128),
        "email": text(found.get("emailAddress"), field=field, max_length=200),
    }


def objects_of(value, *, field: str) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise RecordError(f"{field}: expected a list, got {type(value).__name__}")
    return [_object(v, field) or {} for v in value]


def case_numbers(value, *, field: str) -> list[str]:
    """The case numbers in an SFDC Case Links value (text with one link a line, or a list of them)."""
    lines = value if isinstance(value, list) else [text(value, field=field)]
    found = [a or b for line in lines for a, b in CASE_LINK.findall(text(line, field=field))]
    return list(dict.fromkeys(found))
