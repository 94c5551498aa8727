"""Fixtures of the reliability suite: one Prefect test server for every CLI run in the package,
and the `outcome` recorder whose lines become the table in docs/reliability.md."""
from __future__ import annotations

import pytest

from tests.reliability.recorder import Recorder


@pytest.fixture(scope="package")
def prefect_api() -> str:
    """One Prefect test server for all the CLI runs of this package (as tests/test_resume.py does
    per module), passed to each `trialwatch` subprocess as PREFECT_API_URL."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield PREFECT_API_URL.value()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" or (report.when == "setup" and not report.passed):
        if hasattr(report, "wasxfail"):
            verdict = "known product bug (xfail)" if report.skipped else "fixed? (xpass)"
        else:
            verdict = report.outcome  # passed | failed | skipped
        item.stash[VERDICT] = verdict
    return report


VERDICT = pytest.StashKey[str]()


@pytest.fixture
def outcome(request) -> Recorder:
    recorder = Recorder(request.node.nodeid)
    yield recorder
    recorder.flush(request.node.stash.get(VERDICT, "error"))
