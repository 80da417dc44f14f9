"""The support portal ("hydra") and its SSO: offline token -> short-lived bearer token."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from datetime import datetime

from django.conf import settings

from .http import UpstreamError, call, check_response, client_time, decode_json, retrying_session, timeout

log = logging.getLogger(__name__)

# The portal never returns a result past this position: iter_cases pages by key, each page from position 0.
SEARCH_CAP = 9999
SORT = "case_lastModifiedDate asc, case_number asc"
CASE_FIELDS = [
    "case_number", "case_account_name", "case_summary", "case_status", "case_owner", "case_severity",
    "case_createdDate", "case_lastModifiedDate", "case_closedDate", "case_description", "case_tags",
    "case_product", "case_version",
]  # fmt: skip


def solr_time(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


# What may stand in a range of the search's query: a date or a case number as the portal sent it, nothing that
# could change the query.
_KEY_TEXT = re.compile(r"[0-9A-Za-z:.+-]+\Z")


def _key_text(value) -> bool:
    return isinstance(value, str) and bool(_KEY_TEXT.match(value))


class PortalClient:
    def __init__(self, *, url: str, token_url: str, offline_token: str, client_id: str = "rhsm-api"):
        self.url = url
        self.token_url = token_url
        self.offline_token = offline_token
        self.client_id = client_id
        self.session = retrying_session(url=url, upstream="portal")
        # A token exchange is safe to repeat.
        self._token_session = retrying_session(url=token_url, methods=frozenset({"POST"}))
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock = threading.Lock()

    # --- auth ------------------------------------------------------------------------------
    def _bearer(self, *, renew: bool = False) -> str:
        with self._token_lock:
            if renew or not self._token or time.monotonic() > self._token_expires:
                response = call(
                    lambda: self._token_session.post(
                        self.token_url,
                        data={
                            "grant_type": "refresh_token",
                            "client_id": self.client_id,
                            "refresh_token": self.offline_token,
                        },
                        timeout=timeout(),
                    ),
                    "SSO token",
                )
                body = decode_json(check_response(response, "SSO token"), "SSO token")
                if "access_token" not in body:
                    raise UpstreamError(f"SSO token: no access_token in {sorted(body)}")
                self._token = body["access_token"]
                # Renew a little early so a token never expires between check and use.
                self._token_expires = time.monotonic() + max(10, int(body.get("expires_in", 300)) - 30)
            return self._token

    def _request(self, method: str, path: str, what: str, **kwargs):
        url = f"{self.url}{path}"
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {self._bearer(renew=attempt == 2)}"}
            response = call(
                lambda h=headers: self.session.request(method, url, headers=h, timeout=timeout(), **kwargs), what
            )
            if response.status_code != 401:
                break
            log.info("%s: bearer token refused, renewing it", what)
        return check_response(response, what)

    def _get(self, path: str, what: str, **params):
        with client_time():
            return decode_json(self._request("GET", path, what, params=params), what)

    # --- reads ---------------------------------------------------------------------------------
    def search(self, *, q: str, rows: int, start: int = 0, fields: list[str] = CASE_FIELDS, sort: str = SORT):
        """One page: (numFound, docs). A page shorter than promised is an error, not the end."""
        body = self._get(
            "/search/cases", "case search",
            q=q, fl=",".join(fields), rows=rows, start=start, sort=sort, partnerSearch="false",
        )  # fmt: skip
        try:
            found, docs = int(body["response"]["numFound"]), body["response"]["docs"]
        except (KeyError, TypeError, ValueError) as exc:
            raise UpstreamError(f"case search: unexpected answer ({exc!r})") from exc
        expected = max(0, min(rows, found - start, SEARCH_CAP - start))
        if len(docs) < expected:
            raise UpstreamError(f"case search: truncated page ({len(docs)} of {expected} results)")
        return found, docs

    def iter_cases(
        self, *, query: str, modified_since: datetime | None = None, page_size: int = 1000
    ) -> Iterator[tuple[int, list[dict]]]:
        """Every case matching `query` (modified since a time, if given), oldest change first, in pages.

        Yields (how many cases the whole read covers, as first reported; a page of docs).

        Paged by key, not by position: each page asks, from the first position, for the cases after the last
        one read in the sort (last modified, number). A case modified during the read moves later in that sort
        and is read again there (newer wins when it is stored); by position, every case that moved from before
        the page's start would shift the rest up and one would never be read (and a full run would then take
        it for gone). Starting each page at 0 also stays under the portal's 9,999-result cap.
        """
        since = f" AND case_lastModifiedDate:[{solr_time(modified_since)} TO *]" if modified_since else ""
        after: tuple[str, str] | None = None
        total = None
        while True:
            q = f"({query}){since}"
            if after:
                stamp, number = after
                q += (
                    f" AND (case_lastModifiedDate:{{{stamp} TO *] OR "
                    f"(case_lastModifiedDate:[{stamp} TO {stamp}] AND case_number:{{{number} TO *]))"
                )
            found, docs = self.search(q=q, rows=page_size)
            total = found if total is None else total
            if docs:
                yield total, docs
            if len(docs) >= found or not docs:
                return
            # The last case the page holds with its sort key (a malformed one without it is rejected, not a key).
            keyed = [d for d in docs if _key_text(d.get("case_lastModifiedDate")) and _key_text(d.get("case_number"))]
            key = (keyed[-1]["case_lastModifiedDate"], keyed[-1]["case_number"]) if keyed else None
            if key is None or key == after:
                raise UpstreamError("case search: a page without a case to continue after; cannot page")
            after = key

    def cases_by_number(self, *, query: str, numbers: list[str]) -> list[dict]:
        """Those of these cases that match `query` now: a full read's proof that the others left it."""
        found = []
        for start in range(0, len(numbers), 100):
            batch = numbers[start : start + 100]
            if not all(n.isascii() and n.isdigit() for n in batch):
                raise ValueError(f"not case numbers: {batch}")  # never let a value become a query
            q = f"({query}) AND case_number:({' OR '.join(batch)})"
            found += self.search(q=q, rows=len(batch))[1]
        return found

    def case(self, number: str) -> dict:
        return self._get(f"/v1/cases/{number}", f"case {number}")

    def case_jiras(self, number: str) -> list[dict]:
        body = self._get(f"/cases/{number}/jiras", f"JIRA links of case {number}")
        if not isinstance(body, list):
            raise UpstreamError(f"JIRA links of case {number}: expected a list")
        return body

    # --- writes (guarded and recorded by the session: t5g/clients/writes.py) ------------------------------
    def add_notified_user(self, number: str, sso_username: str) -> None:
        self._request(
            "POST", f"/v1/cases/{number}/notifiedusers", f"notified users of case {number}",
            json={"user": [{"ssoUsername": sso_username}]},
        )  # fmt: skip


def portal_client() -> PortalClient:
    if not settings.PORTAL_URL:
        raise UpstreamError("the support portal is not configured: set PORTAL_URL and its credentials")
    return PortalClient(
        url=settings.PORTAL_URL, token_url=settings.SSO_TOKEN_URL, offline_token=settings.PORTAL_OFFLINE_TOKEN
    )
