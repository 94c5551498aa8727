"""`trialwatch` command line: run, demo, ingest, backfill, replay, status, retag, evaluate-tagger, serve,
dashboard, export, schema-docs (`trialwatch --help` describes each, `trialwatch <command> --help` its options).

Errors a user can fix (bad arguments, settings, an unusable warehouse, an unreachable service)
end with one line on stderr that says what is wrong and what to do, and a non-zero exit.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError
from pathlib import Path
from typing import Sequence

from extract.archive import ArchiveNotFound
from flows.runner import job
from flows.settings import ConfigError, Settings, load_settings
from warehouse.db import WarehouseError
from warehouse.publish import preflight

EXIT_USAGE = 2
EXIT_FAILED = 1
SOURCE_CHOICES = {"pubmed": ("pubmed",), "ctgov": ("ctgov",), "all": ("pubmed", "ctgov")}


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming the fix (`--help`)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"malformed date {text!r}: expected YYYY-MM-DD, e.g. 2024-01-31") from None


def _check_warehouse(settings: Settings) -> None:
    """Fail fast and plainly on a bad warehouse path, before Prefect starts or anything is fetched."""
    preflight(settings.db_path)


def _report(summaries) -> int:
    for summary in summaries:
        print(summary.line())
    failed = [s.source for s in summaries if s.status != "succeeded"]
    if failed:
        print(f"trialwatch: error: {', '.join(failed)} failed; see the message above, fix it and "
              "run again (stored pages are kept)", file=sys.stderr)
        return EXIT_FAILED
    return 0


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    _check_warehouse(settings)
    with job("nightly", settings) as nightly:
        summaries = nightly(settings, SOURCE_CHOICES[args.source], args.since, args.full, args.reconcile)
    return _report(summaries)


def cmd_backfill(args: argparse.Namespace, settings: Settings) -> int:
    _check_warehouse(settings)
    with job("backfill", settings) as backfill:
        return _report(backfill(settings, SOURCE_CHOICES[args.source]))


def cmd_replay(args: argparse.Namespace, settings: Settings) -> int:
    from extract.archive import find_archive

    archive_dir = find_archive(Path(args.dir) if args.dir else settings.archive_dir)
    _check_warehouse(settings)
    with job("replay", settings) as replay:
        return _report(replay(settings, archive_dir, args.tag_all))


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """The main job: ingest (the real services, or the offline demo sample), then open the dashboard."""
    if args.demo:
        from flows.demo import demo_settings, run_demo

        summaries = run_demo(settings, night=args.night)
        settings = demo_settings(settings)
    else:
        _check_warehouse(settings)
        with job("nightly", settings) as nightly:
            summaries = nightly(settings)
    code = _report(summaries)
    if code and not args.demo:
        print("trialwatch: no network here? `trialwatch run --demo` runs the same pipeline on an offline "
              "sample", file=sys.stderr)
    if code or args.no_dashboard:
        return code
    from dashboard.launch import launch

    print(f"trialwatch: opening the dashboard on {settings.db_path} "
          f"(http://{os.environ.get('STREAMLIT_SERVER_ADDRESS', '127.0.0.1')}:"
          f"{os.environ.get('STREAMLIT_SERVER_PORT', '8501')}; Ctrl-C to stop)", file=sys.stderr)
    return launch(settings.db_path)


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    args.demo = True
    return cmd_run(args, settings)


def _demo_instead(settings: Settings) -> Path | None:
    """The demo's warehouse, when the user set no warehouse of their own, has none at the default
    path yet, and has run the demo here: what `status` and `dashboard` should point them to instead
    of telling them to run the demo again."""
    from flows.demo import demo_warehouse

    if settings.db_path != Settings().db_path or settings.db_path.exists():
        return None
    return demo_warehouse()


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    from warehouse.status import status_lines

    demo = _demo_instead(settings)
    if demo is not None:
        raise WarehouseError(f"no warehouse at {settings.db_path} yet, but the demo's is at {demo}: "
                             f"`TRIALWATCH_DB={demo} trialwatch status`; `trialwatch ingest` makes the real one")
    for line in status_lines(settings.db_path):
        print(line)
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Serve on --cron/--timezone, else on TRIALWATCH_CRON/TRIALWATCH_TIMEZONE (checked in load_settings)."""
    cron = settings.cron if args.cron is None else args.cron
    timezone = settings.timezone if args.timezone is None else args.timezone
    try:
        CronSim(cron, datetime.now())
    except CronSimError as error:
        raise ConfigError(f"--cron {cron!r} is not a cron expression ({error}); e.g. '0 3 * * *'") from None
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"--timezone {timezone!r} is not an IANA time zone; e.g. UTC or America/New_York") from None
    _check_warehouse(settings)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    if not os.environ.get("PREFECT_API_URL"):
        print("trialwatch: PREFECT_API_URL is not set, so the deployment lives in a temporary local Prefect "
              "server for as long as this process runs; point PREFECT_API_URL at your Prefect server or "
              "Prefect Cloud to see it there (docs/operations.md)", file=sys.stderr)
    from flows.ingest import serve

    print(f"trialwatch: serving deployment trialwatch-scheduled/trialwatch-nightly on cron '{cron}' "
          f"({timezone}); Ctrl-C to stop", file=sys.stderr)
    serve(cron, timezone)
    return 0


def cmd_retag(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.db_path.exists():
        raise WarehouseError(f"no warehouse at {settings.db_path} yet; run `trialwatch ingest` (or `trialwatch demo`) first")
    _check_warehouse(settings)
    with job("retag", settings) as retag:
        done = retag(settings, args.all)
    print(f"retagged {done['article']:,} articles and {done['trial']:,} trials; "
          f"study design and drug roles derived again for {done['derived']:,} papers")
    return 0


def cmd_evaluate_tagger(args: argparse.Namespace, settings: Settings) -> int:
    from extract.tagger import Tagger
    from flows.retag import evaluate_stored
    from warehouse.db import connect

    conn = connect(settings.db_path, read_only=True)
    try:
        report = evaluate_stored(conn, Tagger())
    finally:
        conn.close()
    print(report.format(examples=args.examples))
    return 0


def cmd_schema_docs(args: argparse.Namespace, settings: Settings) -> int:
    from warehouse.schema_docs import render

    text = render()
    target = Path(args.output)
    if args.check:
        if not target.exists() or target.read_text() != text:
            print(f"trialwatch: error: {target} is stale; run `trialwatch schema-docs` and commit it", file=sys.stderr)
            return EXIT_FAILED
        print(f"{target} is up to date")
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    print(f"wrote {target}")
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from warehouse.export import export

    print(f"exporting every table and view of {settings.db_path} to {args.dir} ({args.format}) …", flush=True)
    written = export(settings.db_path, Path(args.dir), args.format, force=args.force)
    print(f"wrote {len(written)} files to {args.dir}: " + ", ".join(path.name for path in written))
    return 0


def cmd_dashboard(args: argparse.Namespace, settings: Settings) -> int:
    from dashboard.launch import launch

    db_path = settings.db_path
    demo = _demo_instead(settings)
    if demo is not None:
        print(f"trialwatch: no warehouse at {db_path} yet; showing the demo's sample in {demo} "
              "(`trialwatch ingest` makes the real one)", file=sys.stderr)
        db_path = demo
    return launch(db_path, args.streamlit_args)


def build_parser() -> OneLineParser:
    parser = OneLineParser(
        prog="trialwatch", description="trialwatch: nightly PubMed and ClinicalTrials.gov records about ketamine, "
        "psilocybin and MDMA in a DuckDB warehouse, with a dashboard.",
        epilog="Run `trialwatch <command> --help` for a command's options. Settings come from TRIALWATCH_* "
               "environment variables or .env (docs/operations.md).")
    parser.add_argument("-v", "--verbose", action="store_true", help="log retries and details")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser, title="commands",
                                     metavar="<command>")

    def command(name: str, help: str, description: str | None = None) -> argparse.ArgumentParser:
        """A subcommand: `help` in `trialwatch --help`, `description` (default: help) in its own --help."""
        return commands.add_parser(name, help=help, description=description or help[:1].upper() + help[1:] + ".")

    ingest = command("ingest", help="fetch new and changed records into the warehouse",
                     description="Fetch what PubMed and ClinicalTrials.gov added or changed since the last successful "
                                 "run (minus an overlap), load it into the warehouse and publish it.")
    ingest.add_argument("--source", choices=list(SOURCE_CHOICES), default="all", help="which service (default: all)")
    window = ingest.add_mutually_exclusive_group()
    window.add_argument("--since", type=_day, metavar="YYYY-MM-DD", help="records added or changed since this day")
    window.add_argument("--full", action="store_true", help="everything, not just what changed")
    ingest.add_argument("--reconcile", action="store_true",
                        help="also compare stored ids with each service's full id set now and take records that "
                             "are gone out of the views (the nightly run does it every $TRIALWATCH_RECONCILE_DAYS days)")
    ingest.set_defaults(handler=cmd_ingest)

    backfill = command("backfill", help="the full history of each source (resumes an interrupted backfill)")
    backfill.add_argument("--source", choices=list(SOURCE_CHOICES), default="all", help="which service (default: all)")
    backfill.set_defaults(handler=cmd_backfill)

    replay = command("replay", help="rebuild the warehouse from the raw archive (no network)")
    replay.add_argument("dir", nargs="?", help="archive folder (default: $TRIALWATCH_DATA_DIR/raw)")
    replay.add_argument("--tag-all", action="store_true",
                        help="tag every record again; by default a record rebuilt with the content the published "
                             "warehouse holds keeps the tags this tagger version gave it there")
    replay.set_defaults(handler=cmd_replay)

    run = command("run", help="the main job: ingest, then open the dashboard",
                  description="The main job: ingest from the real services (or, with --demo, an offline sample), "
                              "then open the dashboard on the result.")
    demo = command("demo", help="same as `run --demo`: the offline sample, then the dashboard")
    for sub in (run, demo):
        if sub is run:
            sub.add_argument("--demo", action="store_true",
                                 help="no network needed: ingest a generated sample served by local stand-ins of both APIs")
        sub.add_argument("--night", type=int, choices=[1, 2], default=1,
                             help="with --demo — 1: first ingest; 2: the next night (new papers, a trial changes status)")
        sub.add_argument("--no-dashboard", action="store_true", help="ingest only, don't open the dashboard")
    run.set_defaults(handler=cmd_run)
    demo.set_defaults(handler=cmd_demo)

    status = command("status", help="last runs, watermarks, row counts and rejects",
                     description="Row counts, watermarks, PubMed's reading of the query and the last runs of the "
                                 "warehouse named by TRIALWATCH_DB (read-only). Starts with a WARNING line when a "
                                 "source's last successful run is more than two days old.")
    status.set_defaults(handler=cmd_status)

    retag = command("retag", help="re-run the condition tagger, study design and drug role rules over "
                                "stored records (no refetching)")
    retag.add_argument("--all", action="store_true", help="every record, not only those tagged by an older tagger")
    retag.set_defaults(handler=cmd_retag)

    evaluate = command("evaluate-tagger", help="score condition tags against MeSH indexing of stored records")
    evaluate.add_argument("--examples", type=int, default=10, help="worst false positives/negatives to show")
    evaluate.set_defaults(handler=cmd_evaluate_tagger)

    serve = command("serve", help="register the nightly Prefect deployment and run it on its schedule")
    serve.add_argument("--cron", default=None,
                       help="schedule (default: $TRIALWATCH_CRON (environment or .env), else '0 3 * * *')")
    serve.add_argument("--timezone", default=None,
                       help="IANA time zone of the schedule "
                            "(default: $TRIALWATCH_TIMEZONE (environment or .env), else UTC)")
    serve.set_defaults(handler=cmd_serve)

    dashboard = command("dashboard", help="open the Streamlit dashboard on the warehouse "
                                    "(honours STREAMLIT_SERVER_PORT / _ADDRESS / _HEADLESS)")
    dashboard.add_argument("streamlit_args", nargs=argparse.REMAINDER, help="passed on to `streamlit run`")
    dashboard.set_defaults(handler=cmd_dashboard)

    export = command("export", help="write every table and view as Parquet or CSV files")
    export.add_argument("--format", choices=["parquet", "csv"], default="parquet",
                        help="file format (default: parquet, which keeps lists and structs)")
    export.add_argument("--force", action="store_true", help="overwrite files an earlier export left in the folder")
    export.add_argument("dir", help="output folder")
    export.set_defaults(handler=cmd_export)

    schema_docs = command("schema-docs", help="regenerate docs/schema.md from the schema's comments")
    schema_docs.add_argument("--output", default="docs/schema.md", help="file to write (default: docs/schema.md)")
    schema_docs.add_argument("--check", action="store_true", help="fail if the file is stale instead of writing it")
    schema_docs.set_defaults(handler=cmd_schema_docs)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    os.umask(0o077)  # the warehouse, raw archive, digests and feed are the owner's alone
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
        return args.handler(args, settings)
    except (ConfigError, WarehouseError, ArchiveNotFound) as error:
        print(f"trialwatch: error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("trialwatch: interrupted; stored pages are kept, run again to continue", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
