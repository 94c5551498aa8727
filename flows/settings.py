"""One settings object, read once from the environment (and an optional `.env`).

The variable names are a contract other tools rely on: TRIALWATCH_DB, TRIALWATCH_DATA_DIR,
TRIALWATCH_PUBMED_URL, TRIALWATCH_CTGOV_URL, NCBI_API_KEY, NCBI_EMAIL, TRIALWATCH_HTTP_TIMEOUT,
TRIALWATCH_HTTP_RETRIES, TRIALWATCH_OVERLAP_DAYS, TRIALWATCH_WORKERS, TRIALWATCH_TASK_RUNNER,
TRIALWATCH_DASK_ADDRESS, TRIALWATCH_CRON, TRIALWATCH_TIMEZONE, TRIALWATCH_RECONCILE_DAYS,
TRIALWATCH_RECONCILE_MAX_SHARE, TRIALWATCH_DASHBOARD_URL.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError
from pydantic import AfterValidator, BeforeValidator, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

DEFAULT_PUBMED_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
DEFAULT_CTGOV_URL = "https://clinicaltrials.gov/api/v2"
DEFAULT_DASHBOARD_URL = "http://localhost:8501"
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
    # Where pages are parsed and tagged (flows/workers/): `workers` local processes (0 = one per
    # CPU core, 1 = in the main process), or a Dask cluster when task_runner is "dask".
    workers: int = 0
    task_runner: str = "local"
    dask_address: str | None = None
    # The schedule `trialwatch serve` registers, in the IANA time zone `timezone`.
    cron: str = "0 3 * * *"
    timezone: str = "UTC"
    # Deletions: stored ids are compared with a source's full id set once its last successful
    # reconciliation is `reconcile_days` old (0 = every run); a run that would remove more than
    # `reconcile_max_share` of the stored ids at once fails and deletes nothing.
    reconcile_days: int = 7
    reconcile_max_share: float = 0.05
    # Where readers open the dashboard: the feeds' second link (rel="related") of each entry points
    # at its page there (<dashboard_url>/trials?nct=…, /literature?pmid=…).
    dashboard_url: str = DEFAULT_DASHBOARD_URL

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


_DEFAULT = Settings()

# Validators raise ValueError with the tail of a ConfigError message; `_config_error` puts
# "NAME='value'" in front of it.


def _url(example: str):
    def check(value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"is not an http(s) URL; set it to e.g. {example}")
        return value.rstrip("/")
    return AfterValidator(check)


def _choice(value: str) -> str:
    if value not in TASK_RUNNERS:
        raise ValueError(f"is not one of {', '.join(TASK_RUNNERS)}")
    return value


def _dask_address(value: str) -> str:
    if "://" not in value:
        raise ValueError("is not a scheduler address; set it to e.g. tcp://scheduler:8786, or leave it unset "
                         "for a local Dask cluster")
    return value


def _cron(value: str) -> str:
    try:
        CronSim(value, datetime(2000, 1, 1))
    except CronSimError as error:
        raise ValueError(f"is not a cron expression ({error}); set it to e.g. '0 3 * * *'") from None
    return value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("is not an IANA time zone; set it to e.g. UTC or America/New_York") from None
    return value


def _share(value: Any) -> float:
    text = str(value).strip()
    try:
        share = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        share = float("nan")
    if not 0 < share <= 1:
        raise ValueError("is not a share in (0, 1]; set it to e.g. 0.05 or 5%")
    return share


class _FromEnvironment(BaseSettings):
    """What the process environment and the .env file say; names exactly as documented."""

    # case_sensitive: the names are exact, as the shell's are; extra="ignore": a .env file may hold
    # other tools' variables too; env_ignore_empty: `NAME=` means unset.
    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore", env_ignore_empty=True,
                                      env_file_encoding="utf-8")

    db_path: Path | None = Field(None, validation_alias="TRIALWATCH_DB")
    data_dir: Path = Field(_DEFAULT.data_dir, validation_alias="TRIALWATCH_DATA_DIR")
    pubmed_url: Annotated[str, _url(DEFAULT_PUBMED_URL)] = Field(_DEFAULT.pubmed_url,
                                                                 validation_alias="TRIALWATCH_PUBMED_URL")
    ctgov_url: Annotated[str, _url(DEFAULT_CTGOV_URL)] = Field(_DEFAULT.ctgov_url,
                                                               validation_alias="TRIALWATCH_CTGOV_URL")
    ncbi_api_key: SecretStr | None = Field(None, validation_alias="NCBI_API_KEY")
    ncbi_email: str | None = Field(None, validation_alias="NCBI_EMAIL")
    http_timeout: float = Field(_DEFAULT.http_timeout, ge=0, allow_inf_nan=False,
                                validation_alias="TRIALWATCH_HTTP_TIMEOUT")
    http_retries: int = Field(_DEFAULT.http_retries, ge=0, validation_alias="TRIALWATCH_HTTP_RETRIES")
    overlap_days: int = Field(_DEFAULT.overlap_days, ge=0, validation_alias="TRIALWATCH_OVERLAP_DAYS")
    workers: int = Field(_DEFAULT.workers, ge=0, validation_alias="TRIALWATCH_WORKERS")
    task_runner: Annotated[str, AfterValidator(_choice)] = Field(_DEFAULT.task_runner,
                                                                 validation_alias="TRIALWATCH_TASK_RUNNER")
    dask_address: Annotated[str, AfterValidator(_dask_address)] | None = Field(
        None, validation_alias="TRIALWATCH_DASK_ADDRESS")
    cron: Annotated[str, AfterValidator(_cron)] = Field(_DEFAULT.cron, validation_alias="TRIALWATCH_CRON")
    timezone: Annotated[str, AfterValidator(_timezone)] = Field(_DEFAULT.timezone,
                                                                validation_alias="TRIALWATCH_TIMEZONE")
    reconcile_days: int = Field(_DEFAULT.reconcile_days, ge=0, validation_alias="TRIALWATCH_RECONCILE_DAYS")
    reconcile_max_share: Annotated[float, BeforeValidator(_share)] = Field(
        _DEFAULT.reconcile_max_share, validation_alias="TRIALWATCH_RECONCILE_MAX_SHARE")
    dashboard_url: Annotated[str, _url(DEFAULT_DASHBOARD_URL)] = Field(_DEFAULT.dashboard_url,
                                                                       validation_alias="TRIALWATCH_DASHBOARD_URL")

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource) -> tuple[PydanticBaseSettingsSource, ...]:
        return env_settings, dotenv_settings


class _FromMapping(_FromEnvironment):
    """The same, with a given mapping (passed as init values) in place of the process environment."""

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, dotenv_settings


_DEFAULTS = {field.validation_alias: getattr(_DEFAULT, name) for name, field in _FromEnvironment.model_fields.items()}

_NOT_A_NUMBER = {"int_parsing", "int_from_float", "int_type", "float_parsing", "float_type", "finite_number"}


def _config_error(error: ValidationError) -> ConfigError:
    """Pydantic's report, as the one line the CLI prints: NAME='value' <what is wrong>; <what to set>."""
    first = error.errors(include_url=False)[0]
    name, value, kind = first["loc"][0], first["input"], first["type"]
    if kind == "value_error":
        problem = str(first["ctx"]["error"])
    elif kind in _NOT_A_NUMBER:
        problem = f"is not a number; set it to e.g. {_DEFAULTS[name]}"
    elif kind == "greater_than_equal":
        problem = f"must not be negative; set it to e.g. {_DEFAULTS[name]}"
    else:
        problem = f"is unusable ({first['msg']})"
    return ConfigError(f"{name}={value!r} {problem}")


def load_settings(environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")) -> Settings:
    """Settings from `environ` (default: the process environment) over an optional `.env` file."""
    try:
        if environ is None:
            read = _FromEnvironment(_env_file=env_file)
        else:
            given = {name: value for name, value in environ.items() if name in _DEFAULTS and value}
            read = _FromMapping(_env_file=env_file, **given)
    except ValidationError as error:
        raise _config_error(error) from None
    values = read.model_dump()
    values["db_path"] = read.db_path or read.data_dir / "trialwatch.duckdb"
    return Settings(**values)


def quiet_prefect() -> None:
    """Prefect's chatter (a temporary server, telemetry, run states, tracebacks of errors the CLI
    explains in one line itself) stays out of the terminal unless the user asks for it with their
    own PREFECT_LOGGING_LEVEL. Call before Prefect is imported."""
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "CRITICAL")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
