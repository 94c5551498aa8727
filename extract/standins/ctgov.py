"""The ClinicalTrials.gov API v2 stand-in: the paged study search (opaque page tokens pinned to
their query, ``totalCount`` on the first page only) and single studies by NCT id."""
from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable, Iterable
from datetime import date

from extract.standins.faults import FaultPlan
from extract.standins.server import Answer, _json_response, _Response, _StandIn

__all__ = ["CtGovStandIn"]

_STUDIES_PARAMS = frozenset({
    "format", "pageSize", "pageToken", "countTotal", "fields",
    "query.intr", "query.term", "query.cond", "query.titles", "filter.advanced",
})
# Parameters a pageToken does not pin: the token itself, and countTotal (first page only anyway).
_TOKEN_FREE_PARAMS = frozenset({"pageToken", "countTotal"})
_LAST_UPDATE_RANGE = re.compile(
    r"^\s*AREA\[LastUpdatePostDate\]\s*RANGE\[\s*(MIN|\d{4}-\d{2}-\d{2})\s*,"
    r"\s*(MAX|\d{4}-\d{2}-\d{2})\s*\]\s*$"
)
_STUDY_PATH = re.compile(r"^/api/v2/studies/([^/]+)$")


class CtGovStandIn(_StandIn):
    """ClinicalTrials.gov API v2: ``GET /studies`` (search, paged) and ``GET /studies/{nctId}``.

    ``url`` is the API base (``http://127.0.0.1:PORT/api/v2``). Studies are whole v2 study
    objects, served in nctId order; every ``query.*`` value matches the whole store. Parameters
    outside ``format``, ``pageSize``, ``pageToken``, ``countTotal``, ``query.intr|term|cond|
    titles`` and ``filter.advanced`` are refused with 400 rather than silently ignored.
    """

    ENDPOINTS = frozenset({"studies", "study"})
    BASE_PATH = "/api/v2"

    def __init__(
        self,
        studies: Iterable[dict],
        *,
        faults: FaultPlan | None = None,
        latency: float = 0.0,
    ) -> None:
        super().__init__(faults=faults, latency=latency)
        self._by_nct: dict[str, dict] = {}
        self._ordered: tuple[dict, ...] = ()
        self.replace(studies)

    # store -----------------------------------------------------------------------------------

    def replace(self, studies: Iterable[dict]) -> None:
        """Make ``studies`` the whole registry."""
        self._set_store({_nct_id(study): study for study in studies})

    def add(self, studies: Iterable[dict]) -> None:
        """Add studies, replacing stored versions with the same nctId (an update)."""
        with self._store_lock:
            self._set_store({**self._by_nct, **{_nct_id(study): study for study in studies}})

    def _set_store(self, by_nct: dict[str, dict]) -> None:
        ordered = tuple(by_nct[nct] for nct in sorted(by_nct))
        with self._store_lock:
            self._by_nct, self._ordered = by_nct, ordered

    # routing ---------------------------------------------------------------------------------

    def _route(self, method: str, path: str) -> tuple[str, Answer] | None:
        if method != "GET":
            return None
        if path.rstrip("/") == f"{self.BASE_PATH}/studies":
            return "studies", self._studies
        match = _STUDY_PATH.match(path)
        if match:
            return "study", lambda params, empty: self._study(match.group(1), empty)
        return None

    def _too_many_requests(self, params: dict[str, str]) -> _Response:
        return _json_response(429, {"message": "Too Many Requests"})

    # endpoints -------------------------------------------------------------------------------

    def _studies(self, params: dict[str, str], empty: bool) -> _Response:
        """One page of the search. ``totalCount`` (with ``countTotal=true``) comes on the first
        page only; ``nextPageToken`` is absent on the last page. A token is valid only with the
        parameters it was issued for (``countTotal`` aside) — anything else is a 400."""
        try:
            page_size, keep = _studies_query(params)
            token = params.get("pageToken")
            offset = _token_offset(token, params) if token else 0
        except ValueError as exc:
            return _json_response(400, {"message": str(exc)})
        if empty:
            return _json_response(200, {"studies": []})
        with self._store_lock:
            ordered = self._ordered
        matching = [study for study in ordered if keep(study)]
        payload: dict[str, object] = {"studies": [_only_fields(study, params.get("fields"))
                                                  for study in matching[offset: offset + page_size]]}
        if params.get("countTotal") == "true" and not token:
            payload["totalCount"] = len(matching)
        if offset + page_size < len(matching):
            payload["nextPageToken"] = _page_token(offset + page_size, params)
        return _json_response(200, payload)

    def _study(self, nct_id: str, empty: bool) -> _Response:
        with self._store_lock:
            study = self._by_nct.get(nct_id.upper())
        if study is None:
            return _json_response(404, {"message": f"Study {nct_id} not found"})
        return _json_response(200, {} if empty else study)


def _nct_id(study: dict) -> str:
    return study["protocolSection"]["identificationModule"]["nctId"]


def _only_fields(study: dict, fields: str | None) -> dict:
    """The study as `fields=` asks for it: whole when absent; `NCTId` alone is imitated (what
    reconciliation asks for), as the real API nests it."""
    if fields is None:
        return study
    return {"protocolSection": {"identificationModule": {"nctId": _nct_id(study)}}}


def _studies_query(params: dict[str, str]) -> tuple[int, Callable[[dict], bool]]:
    """Validate a search's parameters: (page size, predicate over studies)."""
    unknown = sorted(set(params) - _STUDIES_PARAMS)
    if unknown:
        raise ValueError(f"unsupported parameter(s) {', '.join(unknown)} (stand-in supports "
                         f"{', '.join(sorted(_STUDIES_PARAMS))})")
    if params.get("fields") not in (None, "NCTId"):
        raise ValueError(f"fields={params['fields']} is not imitated by the stand-in; only fields=NCTId")
    if params.get("format", "json") != "json":
        raise ValueError(f"format={params['format']} is not served by the stand-in; use json")
    if params.get("countTotal", "false") not in ("true", "false"):
        raise ValueError(f"countTotal must be true or false, got {params['countTotal']!r}")
    size_text = params.get("pageSize", "10")
    if not size_text.isdigit() or not 1 <= int(size_text) <= 1000:
        raise ValueError(f"pageSize must be an integer from 1 to 1000, got {size_text!r}")
    return int(size_text), _advanced_filter(params.get("filter.advanced"))


def _advanced_filter(expression: str | None) -> Callable[[dict], bool]:
    """``AREA[LastUpdatePostDate]RANGE[from,to]`` (dates or MIN/MAX, inclusive) — the one Essie
    expression imitated. Partial study dates (``2021-09``) compare as their first day."""
    if expression is None:
        return lambda study: True
    match = _LAST_UPDATE_RANGE.match(expression)
    if not match:
        raise ValueError(f"filter.advanced not supported by the stand-in: {expression!r}; "
                         "only AREA[LastUpdatePostDate]RANGE[YYYY-MM-DD|MIN,YYYY-MM-DD|MAX]")
    low, high = (None if bound in ("MIN", "MAX") else date.fromisoformat(bound)
                 for bound in match.groups())

    def keep(study: dict) -> bool:
        status = study.get("protocolSection", {}).get("statusModule", {})
        text = status.get("lastUpdatePostDateStruct", {}).get("date")
        try:
            parts = [int(p) for p in text.split("-")] + [1, 1]
            updated = date(parts[0], parts[1], parts[2])
        except (AttributeError, ValueError):
            return False  # no date, or not one: outside every range
        return (low is None or low <= updated) and (high is None or updated <= high)

    return keep


def _params_fingerprint(params: dict[str, str]) -> str:
    pinned = sorted((k, v) for k, v in params.items() if k not in _TOKEN_FREE_PARAMS)
    return hashlib.sha256(json.dumps(pinned).encode()).hexdigest()[:16]


def _page_token(offset: int, params: dict[str, str]) -> str:
    """Opaque to clients: urlsafe base64 of the next offset and a hash of the query."""
    raw = f"{offset}:{_params_fingerprint(params)}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _token_offset(token: str, params: dict[str, str]) -> int:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        offset_text, fingerprint = raw.split(":")
        offset = int(offset_text)
    except ValueError as exc:  # binascii.Error and UnicodeDecodeError are ValueErrors
        raise ValueError(f"invalid pageToken {token!r}") from exc
    if fingerprint != _params_fingerprint(params):
        raise ValueError("pageToken does not match the query: send it back with otherwise "
                         "identical parameters")
    return offset
