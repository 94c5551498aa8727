"""One settings object, read once from the environment (and an optional `.env`).

The variable names are a contract other tools rely on: TRIALWATCH_DB, TRIALWATCH_DATA_DIR,
TRIALWATCH_PUBMED_URL, TRIALWATCH_CTGOV_URL, NCBI_API_KEY, NCBI_EMAIL.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping

from dotenv import dotenv_values
from pydantic import SecretStr

DEFAULT_PUBMED_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
DEFAULT_CTGOV_URL = "https://clinicaltrials.gov/api/v2"
TASK_RUNNERS = ("local", "dask")


class ConfigError(ValueError):
    """A setting is present but unusable; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    db_path: Path = Path("data/trialwatch.duckdb")
    data_dir: Path = Path("data")
    pubmed_url: str = DEFAULT_PUBMED_URL
    ctgov_url: str = DEFAULT_CTGOV_URL
    # SecretStr: shown as '**********' wherever Settings is printed or serialised — including the
    # flow-run parameters Prefect stores and displays.
    ncbi_api_key: SecretStr | None = None
    ncbi_email: str | None = None
    http_timeout: float = 30.0
    http_retries: int = 6
    overlap_days: int = 3
    # Where pages are parsed and tagged (flows/workers.py): `workers` local processes (0 = one per
    # CPU core, 1 = in the main process), or a Dask cluster when task_runner is "dask".
    workers: int = 0
    task_runner: str = "local"
    dask_address: str | None = None

    @property
    def archive_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def feed_path(self) -> Path:
        return self.data_dir / "feeds" / "new.xml"

    @property
    def ncbi_key(self) -> str | None:
        """The NCBI API key itself, for the one place that sends it."""
        return self.ncbi_api_key.get_secret_value() if self.ncbi_api_key else None

    def with_overrides(self, **changes) -> "Settings":
        return replace(self, **changes)

    def redacted(self) -> dict[str, str]:
        """Settings as printable text, with the API key hidden."""
        shown = {k: str(v) for k, v in self.__dict__.items()}
        if self.ncbi_api_key:
            shown["ncbi_api_key"] = "***"
        return shown


def _url(name: str, value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ConfigError(f"{name}={value!r} is not an http(s) URL; set it to e.g. {DEFAULT_PUBMED_URL if 'PUBMED' in name else DEFAULT_CTGOV_URL}")
    return value.rstrip("/")


def _number(name: str, value: str, kind: type) -> float | int:
    try:
        number = kind(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a number") from None
    if number < 0:
        raise ConfigError(f"{name}={value!r} must not be negative")
    return number


def _choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ConfigError(f"{name}={value!r} is not one of {', '.join(choices)}")
    return value


def _dask_address(value: str | None) -> str | None:
    if value is not None and "://" not in value:
        raise ConfigError(f"TRIALWATCH_DASK_ADDRESS={value!r} is not a scheduler address; set it to e.g. "
                          "tcp://scheduler:8786, or leave it unset for a local Dask cluster")
    return value


def load_settings(environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")) -> Settings:
    """Settings from `environ` (default: the process environment) over an optional `.env` file."""
    values: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)

    data_dir = Path(values.get("TRIALWATCH_DATA_DIR") or "data")
    return Settings(
        db_path=Path(values.get("TRIALWATCH_DB") or data_dir / "trialwatch.duckdb"),
        data_dir=data_dir,
        pubmed_url=_url("TRIALWATCH_PUBMED_URL", values.get("TRIALWATCH_PUBMED_URL") or DEFAULT_PUBMED_URL),
        ctgov_url=_url("TRIALWATCH_CTGOV_URL", values.get("TRIALWATCH_CTGOV_URL") or DEFAULT_CTGOV_URL),
        ncbi_api_key=SecretStr(values["NCBI_API_KEY"]) if values.get("NCBI_API_KEY") else None,
        ncbi_email=values.get("NCBI_EMAIL") or None,
        http_timeout=_number("TRIALWATCH_HTTP_TIMEOUT", values.get("TRIALWATCH_HTTP_TIMEOUT") or "30", float),
        http_retries=_number("TRIALWATCH_HTTP_RETRIES", values.get("TRIALWATCH_HTTP_RETRIES") or "6", int),
        overlap_days=_number("TRIALWATCH_OVERLAP_DAYS", values.get("TRIALWATCH_OVERLAP_DAYS") or "3", int),
        workers=_number("TRIALWATCH_WORKERS", values.get("TRIALWATCH_WORKERS") or "0", int),
        task_runner=_choice("TRIALWATCH_TASK_RUNNER", values.get("TRIALWATCH_TASK_RUNNER") or "local", TASK_RUNNERS),
        dask_address=_dask_address(values.get("TRIALWATCH_DASK_ADDRESS") or None),
    )
