"""ClinicalTrials.gov API v2: `/studies` pages, followed through `nextPageToken`.

Each page is asked with otherwise identical parameters plus the previous page's token, as the
API requires; the last page carries no token. `countTotal=true` makes the first page report the
total, which lets us notice a page that came back empty too early.
"""
from __future__ import annotations

import json
import logging
from datetime import date
from typing import Iterator

from extract.http import HttpClient, InvalidBody, ServiceUnavailable
from extract.pages import RawPage

log = logging.getLogger("trialwatch.ctgov")

PAGE_SIZE = 1000
POLITE_RATE = 50 / 60  # requests per second: the budget API-NOTES suggests
EMPTY_PAGE_RETRIES = 2


class IncompleteIdSet(RuntimeError):
    """A service's id list did not add up to the total it announced."""


def ctgov_http(base_url: str, *, timeout: float = 30.0, max_retries: int = 6, **kwargs) -> HttpClient:
    return HttpClient("ClinicalTrials.gov", base_url, rate_per_second=kwargs.pop("rate_per_second", POLITE_RATE),
                      rate_window=60.0, timeout=timeout, max_retries=max_retries, **kwargs)


def _studies_page(body: bytes) -> dict:
    try:  # undecodable bytes stay as surrogates: the parser quarantines the study that has them
        page = json.loads(body.decode("utf-8", errors="surrogateescape"))
    except ValueError as error:
        raise InvalidBody(f"studies page is not JSON: {error}") from None
    if not isinstance(page, dict) or not isinstance(page.get("studies"), list):
        raise InvalidBody("studies page has no 'studies' list")
    return page


class CtGovClient:
    def __init__(self, http: HttpClient, intervention_query: str, *, page_size: int = PAGE_SIZE):
        self.http = http
        self.intervention_query = intervention_query
        self.page_size = page_size
        self.total: int | None = None
        self.received = 0

    def params(self, since: date | None) -> dict[str, str]:
        params = {
            "format": "json", "query.intr": self.intervention_query,
            "pageSize": str(self.page_size), "countTotal": "true",
        }
        if since is not None:
            params["filter.advanced"] = f"AREA[LastUpdatePostDate]RANGE[{since.isoformat()},MAX]"
        return params

    def pages(self, since: date | None = None) -> Iterator[RawPage]:
        """Every page of studies updated since `since` (all studies when None)."""
        base = self.params(since)
        token: str | None = None
        number = 0
        self.total, self.received = None, 0
        while True:
            params = dict(base, pageToken=token) if token else base
            body, page = self._get_page(params, first=token is None)
            if self.total is None and "totalCount" in page:
                self.total = int(page["totalCount"])
            number += 1
            self.received += len(page["studies"])
            yield RawPage("ctgov", body, "json", {"page": number, "studies": len(page["studies"])})
            token = page.get("nextPageToken")
            if not token:
                break
        if self.total is not None and self.received != self.total:
            log.warning("ClinicalTrials.gov: received %d studies, first page announced %d "
                        "(studies updated while paging?)", self.received, self.total)

    def all_ids(self) -> list[str]:
        """Every NCT id the intervention query matches, paged with `fields=NCTId` (ids only, so a
        few small pages). Raises IncompleteIdSet unless the ids add up to the announced total:
        reconciliation must never take a short list for deletions."""
        params = {**self.params(None), "fields": "NCTId"}
        ids: dict[str, None] = {}
        token: str | None = None
        total: int | None = None
        while True:
            page = _studies_page(self.http.get("/studies", dict(params, pageToken=token) if token else params,
                                               validate=_studies_page).content)
            if total is None:
                total = page.get("totalCount")
            for study in page["studies"]:
                nct_id = study.get("protocolSection", {}).get("identificationModule", {}).get("nctId")
                if nct_id:
                    ids[nct_id] = None
            token = page.get("nextPageToken")
            if not token:
                break
        if total is None or len(ids) != int(total):
            raise IncompleteIdSet(f"ClinicalTrials.gov listed {len(ids):,} study ids but announced {total}; "
                                  "not reconciling on an incomplete list")
        return list(ids)

    def _get_page(self, params: dict[str, str], first: bool) -> tuple[bytes, dict]:
        """A page, asked again when it looks cut short: a first page without the `totalCount`
        we asked for, or an empty last page before the announced total."""
        for _ in range(EMPTY_PAGE_RETRIES + 1):
            body = self.http.get("/studies", params, validate=_studies_page).content
            page = _studies_page(body)
            if first:
                if "totalCount" in page:
                    return body, page
            elif page["studies"] or page.get("nextPageToken") or self.received >= (self.total or 0):
                return body, page
            log.warning("ClinicalTrials.gov: page looks cut short after %d of %s studies; asking again",
                        self.received, self.total)
        if first:
            raise ServiceUnavailable("ClinicalTrials.gov keeps answering the first page without the "
                                     "totalCount it was asked for; try again later")
        raise ServiceUnavailable(
            f"ClinicalTrials.gov ended paging after {self.received} of {self.total} studies"
        )
