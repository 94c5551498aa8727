"""Whether a Prefect API is configured, answered without importing Prefect where nothing could
configure one.

Importing Prefect (even `prefect.settings`, to ask whether an API is configured) costs ~1.3-1.5 s,
more than a whole no-op night; a one-shot command on a machine with no Prefect configuration
must not pay it (issue #19). So the question "is a Prefect API configured?" is first answered
from the places Prefect reads its settings from, which are cheap to look at, and Prefect is only
asked when one of them could set an API."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from flows.settings import quiet_prefect

# Environment variables that can point Prefect at a server other than through PREFECT_API_URL
# itself: a chosen profile (Prefect's own "local" profile sets an API URL), or another profiles file.
_PROFILE_CHOICE = ("PREFECT_PROFILE", "PREFECT_PROFILES_PATH")


def _mentions(path: Path, text: str) -> bool:
    try:
        return text in path.read_text(errors="replace")
    except OSError:
        return False


def prefect_settings_may_set_an_api() -> bool:
    """Whether any of Prefect's settings sources could configure an API: PREFECT_API_URL or a
    profile choice in the environment, the user's profiles file naming PREFECT_API_URL, or a
    `.env`, `prefect.toml` or `pyproject.toml` [tool.prefect] in the working directory."""
    if os.environ.get("PREFECT_API_URL") or any(os.environ.get(name) for name in _PROFILE_CHOICE):
        return True
    home = Path(os.environ.get("PREFECT_HOME") or "~/.prefect").expanduser()
    return (_mentions(home / "profiles.toml", "PREFECT_API_URL") or _mentions(Path(".env"), "PREFECT_")
            or Path("prefect.toml").exists() or _mentions(Path("pyproject.toml"), "tool.prefect"))


def orchestrated() -> bool:
    """Whether runs report to a Prefect server: a Prefect API is configured (a self-hosted server,
    Prefect Cloud), or this is already a Prefect flow run (`trialwatch serve`'s deployment)."""
    if "prefect" not in sys.modules and not prefect_settings_may_set_an_api():
        return False
    quiet_prefect()
    from prefect.context import FlowRunContext
    from prefect.settings import get_current_settings

    return bool(get_current_settings().api.url) or FlowRunContext.get() is not None
