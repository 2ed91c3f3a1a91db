"""The ``tracker`` command line.

Commands that need the server's dependencies import them when they run, so ``tracker runs`` works
with the client alone and says how to install the rest when it is missing.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

SERVER_EXTRA_HINT = "this command needs the server's dependencies: pip install 'tracker[server]'"


def _settings_options(parser: argparse.ArgumentParser, fields: Sequence[str]) -> None:
    """Add the named ServerSettings fields as options, with their descriptions as help."""
    try:
        from tracker_server.settings import ServerSettings
    except ModuleNotFoundError:  # client-only install: the command itself will say what to install
        parser.description = f"{parser.description or ''} ({SERVER_EXTRA_HINT})"
        parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
        return
    for name in fields:
        info = ServerSettings.model_fields[name]
        extra: dict[str, Any] = info.json_schema_extra  # type: ignore[assignment]
        default = extra.get("default", info.default)
        parser.add_argument(
            extra["flag"],
            dest=name,
            metavar=extra["metavar"],
            default=None,
            help=f"{info.description} [env {extra['env']}; default {default}]",
        )


def _load_settings(args: argparse.Namespace, fields: Sequence[str]) -> Any:
    from pydantic import ValidationError

    from tracker_server.settings import ServerSettings

    overrides = {name: getattr(args, name) for name in fields if getattr(args, name, None) is not None}
    try:
        return ServerSettings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
            if e["loc"]
            else str(e["msg"]).removeprefix("Value error, ")
            for e in exc.errors()
        )
        raise SystemExit(f"tracker: invalid setting: {problems}") from None


SERVER_FIELDS = (
    "database_url",
    "host",
    "port",
    "http_port",
    "db_pool_size",
    "db_connect_timeout",
    "db_check_interval",
    "shutdown_grace",
    "tls_cert",
    "tls_key",
    "auth",
    "log_level",
)


def _browsable(host: str) -> str:
    """An address a browser on this machine can open for a server listening on ``host``."""
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 (naming the wildcard, not binding it)
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def cmd_server(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import OperationalError

    from tracker_server.app import open_database, serve
    from tracker_server.store.engine import redact
    from tracker_server.store.migrate import SchemaOutOfDateError

    settings = _load_settings(args, SERVER_FIELDS)
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    url = settings.resolved_database_url
    if settings.uses_default_database:
        print(f"Storing data in {settings.default_database_path}", flush=True)
    try:
        tls = settings.tls_credentials()
    except OSError as exc:
        print(f"tracker: cannot read the TLS certificate or key: {exc}", file=sys.stderr)
        return 2
    try:
        db = open_database(
            url,
            pool_size=settings.db_pool_size,
            connect_timeout=settings.db_connect_timeout,
            announce=print,
        )
    except SchemaOutOfDateError as exc:
        flag = "" if args.database_url is None else f" --db '{redact(url)}'"
        print(
            f"tracker: {exc}.\nUpgrade it first (with the real password in the URL): "
            f"tracker db upgrade{flag}",
            file=sys.stderr,
        )
        return 2
    except OperationalError as exc:
        print(f"tracker: cannot connect to the database {redact(url)}: {exc.orig}", file=sys.stderr)
        return 2

    def ready(running: Any) -> None:
        print(
            f"Tracker server listening on {settings.host}:{running.port}{' (TLS)' if tls else ''}, "
            f"{'API tokens required' if settings.resolved_auth == 'token' else 'no authentication'}\n"
            f"Log to it: tracker.init(project=..., server='{settings.host}:{running.port}') "
            f"or TRACKER_SERVER={settings.host}:{running.port}\n"
            + (
                f"Web UI: {'https' if tls else 'http'}://{_browsable(settings.host)}:{running.http_port}/\n"
                if running.http_port is not None
                else ""
            )
            + "Stop with Ctrl-C.",
            flush=True,
        )

    try:
        asyncio.run(
            serve(
                db,
                host=settings.host,
                port=settings.port,
                grace=settings.shutdown_grace,
                ready=ready,
                tls=tls,
                check_interval=settings.db_check_interval,
                auth=settings.resolved_auth,
                http_port=settings.resolved_http_port,
                http_tls=settings.tls_files(),
            )
        )
    except OSError as exc:
        print(f"tracker: {exc}", file=sys.stderr)
        return 2
    finally:
        db.dispose()
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import OperationalError

    from tracker_server.store.engine import Database, redact
    from tracker_server.store.migrate import upgrade

    settings = _load_settings(args, ("database_url",))
    url = settings.resolved_database_url
    db = Database(url)
    try:
        before, after = upgrade(db)
    except OperationalError as exc:
        print(f"tracker: cannot connect to the database {redact(url)}: {exc.orig}", file=sys.stderr)
        return 2
    finally:
        db.dispose()
    if before == after:
        print(f"{redact(url)} is up to date (schema revision {after}).")
    else:
        print(f"Upgraded {redact(url)} from schema revision {before or '(empty)'} to {after}.")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from tracker_server.demo import main as demo

    return demo(args.server, serve=not args.no_serve)


def cmd_runs(args: argparse.Namespace) -> int:
    import tracker_client as tracker
    from tracker_server.table import render

    with tracker.Api(server=args.server) as api:
        runs = api.runs(args.project)
        metrics: dict[str, dict[str, float]] = {}
        offset = 0
        while True:
            page = api.session_groups(args.project, group=False, offset=offset, limit=1000)
            metrics.update({g.runs[0]: g.metrics for g in page.groups})
            offset += len(page.groups)
            if not page.groups or offset >= page.total:
                break
    hparam_names = sorted({name for r in runs for name in r.hparams})
    tags = sorted({tag for values in metrics.values() for tag in values})
    headers = ["id", "name", "status", "created (UTC)", "created by", *hparam_names, *tags]
    rows = [
        [
            r.id,
            r.name,
            r.status,
            r.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            r.created_by,
            *(r.hparams.get(h) for h in hparam_names),
            *(metrics.get(r.id, {}).get(t) for t in tags),
        ]
        for r in runs
    ]
    print(render(headers, rows, args.format))
    return 0


def cmd_best(args: argparse.Namespace) -> int:
    import tracker_client as tracker
    from tracker_server.table import render

    with tracker.Api(server=args.server) as api:
        groups = api.best(
            args.project,
            args.metric,
            mode="min" if args.min else "max",
            top=args.top,
            where=args.where,
            aggregate=args.aggregate,
            metric_value=args.metric_value,
        )
    hparam_names = sorted({name for g in groups for name in g.hparams})
    headers = ["rank", args.metric, "runs", *hparam_names, "run ids"]
    rows = [
        [
            rank,
            g.metrics.get(args.metric),
            g.count,
            *(g.hparams.get(h) for h in hparam_names),
            " ".join(g.runs),
        ]
        for rank, g in enumerate(groups, 1)
    ]
    print(render(headers, rows, args.format))
    return 0


def cmd_importance(args: argparse.Namespace) -> int:
    import tracker_client as tracker
    from tracker_server.table import render

    with tracker.Api(server=args.server) as api:
        report = api.importance(args.project, args.metric, metric_value=args.metric_value, where=args.where)
    rows = [[h.name, h.importance, h.correlation, h.run_count] for h in report.hparams]
    print(render(["hparam", "importance", "spearman", "runs"], rows, args.format))
    if args.format == "table":
        print(
            f"\n{report.run_count} runs with a finite {args.metric}; random-forest out-of-bag R² = "
            f"{report.model_r2:.3f} (how much of {args.metric} the hyperparameters explain)"
        )
    return 0


def cmd_import_tensorboard(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tqdm import tqdm

    from tracker_client.channel import Connection
    from tracker_server.tensorboard.importer import Importer, find_runs

    logdir = Path(args.logdir)
    if not logdir.is_dir():
        print(f"tracker: {logdir} is not a directory", file=sys.stderr)
        return 2
    runs = find_runs(logdir)
    if not runs:
        print(f"tracker: no TensorBoard event files (*tfevents*) under {logdir}", file=sys.stderr)
        return 2
    project = args.project or logdir.resolve().name
    total = sum(path.stat().st_size for files in runs.values() for path in files)
    files = sum(len(f) for f in runs.values())
    print(
        f"Importing {len(runs)} runs ({files} event files, {total / 1e6:,.1f} MB) into project {project!r}",
        file=sys.stderr,
    )
    with (
        Connection(args.server, token=args.token) as connection,
        tqdm(
            total=total, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr, disable=args.quiet
        ) as bar,
    ):

        def progress(read: int, events: int) -> None:
            bar.update(read)
            bar.set_postfix(events=f"{events:,}", refresh=False)

        report = Importer(connection, project, progress=progress).import_logdir(logdir)
    rate = report.events / report.seconds if report.seconds else 0.0
    kinds = ", ".join(f"{count:,} {kind}" for kind, count in sorted(report.imported.items())) or "nothing new"
    print(
        f"Imported {report.runs} runs from {report.files} files: {kinds} "
        f"({report.seconds:.1f} s, {rate:,.0f} events/s)."
    )
    if report.up_to_date_files:
        print(f"{report.up_to_date_files} files were already imported up to their end.")
    if report.skipped:
        skipped = ", ".join(f"{count:,} {what}" for what, count in report.skipped.most_common())
        print(f"Not imported (Tracker does not store these yet): {skipped}.")
    if report.rejected:
        rejected = ", ".join(f"{count:,} {why}" for why, count in report.rejected.most_common())
        print(f"warning: rejected as invalid, the rest imported: {rejected}.", file=sys.stderr)
    for problem in report.problems:
        print(
            f"warning: {problem.path} at byte {problem.offset}: {problem.kind} record ({problem.reason}); "
            f"{problem.skipped:,} bytes skipped, the rest imported",
            file=sys.stderr,
        )
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tracker_client.errors import TrackerError
    from tracker_client.spool import spool_dir, spool_files
    from tracker_client.sync import SpoolBusyError, sync_file

    paths: list[Path] = []
    for given in args.paths or [str(spool_dir())]:
        path = Path(given).expanduser()
        if path.is_dir() or not args.paths:
            paths.extend(spool_files(path))
        elif path.is_file():
            paths.append(path)
        else:
            print(f"tracker: {path} does not exist", file=sys.stderr)
            return 2
    if not paths:
        print(f"Nothing to sync: no spool files in {', '.join(args.paths or [str(spool_dir())])}.")
        return 0
    failed = 0
    for path in paths:
        try:
            report = _sync_one(path, args, sync_file)
        except SpoolBusyError as exc:
            print(f"tracker: skipped: {exc}", file=sys.stderr)
            continue
        except (TrackerError, OSError, ValueError) as exc:
            failed += 1
            print(
                f"tracker: could not sync {path}: {exc}\nNothing was lost: run the same command again "
                "to resume.",
                file=sys.stderr,
            )
            continue
        ending = "finished" if report.finished else "marked failed (its process ended without finishing it)"
        print(
            f"Synced run {report.name!r} of project {report.project!r} (id {report.run_id}): "
            f"{report.batches_sent:,} batches ({report.points_sent:,} points) sent, "
            f"{report.batches_on_server:,} already on the server; {ending}."
        )
        if report.torn_at is not None:
            print(
                f"warning: {path} ends with a partly written record at byte {report.torn_at} (the process "
                "was killed while writing it); everything before it was synced.",
                file=sys.stderr,
            )
    return 1 if failed else 0


def _sync_one(path: Any, args: argparse.Namespace, sync_file: Any) -> Any:
    """Sync one spool file with a progress bar (tqdm when installed, else a line per 10%)."""
    size = path.stat().st_size
    print(f"Syncing {path} ({size / 1e6:,.1f} MB)", file=sys.stderr)
    try:
        from tqdm import tqdm
    except ImportError:
        shown = [0]

        def progress(done: int, total: int) -> None:
            tenth = done * 10 // max(total, 1)
            if tenth > shown[0] and not args.quiet:
                shown[0] = tenth
                print(f"  {tenth * 10}%", file=sys.stderr)

        return sync_file(path, server=args.server, token=args.token, keep=args.keep, progress=progress)
    with tqdm(
        total=size, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr, disable=args.quiet
    ) as bar:

        def update(done: int, _total: int) -> None:
            bar.update(done - bar.n)

        return sync_file(path, server=args.server, token=args.token, keep=args.keep, progress=update)


def _admin_database(args: argparse.Namespace) -> Any:
    """The database an operator command works on (upgraded if it is the embedded SQLite file)."""
    from tracker_server.app import open_database

    settings = _load_settings(args, ("database_url",))
    return open_database(settings.resolved_database_url, pool_size=1, announce=print)


def _admin(command: Callable[[Any, argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Run an operator command on the database; a refusal (no such user, name taken) is one line."""

    def run(args: argparse.Namespace) -> int:
        from tracker_server.domain.errors import DomainError

        db = _admin_database(args)
        try:
            return command(db, args)
        except DomainError as exc:
            print(f"tracker: {exc}", file=sys.stderr)
            return 1
        finally:
            db.dispose()

    return run


def _admin_command(
    parser: argparse.ArgumentParser, command: Callable[[Any, argparse.Namespace], int]
) -> None:
    """Make ``parser`` an operator command: a --db option, and ``command(db, args)`` run on it."""
    _settings_options(parser, ("database_url",))
    parser.set_defaults(func=_guard(_admin(command)))


def cmd_user_create(db: Any, args: argparse.Namespace) -> int:
    from tracker_server.domain import users

    users.create_user(db, args.name, admin=args.admin)
    role = "a server admin" if args.admin else "a user"
    print(f"Created {role} {args.name!r}. Give them a token: tracker admin token create {args.name}")
    return 0


def cmd_token_create(db: Any, args: argparse.Namespace) -> int:
    from tracker_server.domain import users

    expires_in = None if args.expires == "never" else users.parse_duration(args.expires)
    secret, info = users.create_token(db, args.user, name=args.name or "", expires_in=expires_in)
    until = f"until {info.expires_at:%Y-%m-%d %H:%M} UTC" if info.expires_at else "without expiry"
    print(secret)
    print(
        f"Token {info.id} ({info.name!r}) for {info.user!r}, valid {until}. It is shown only now and "
        "cannot be recovered: store it in a secret manager, give it to clients as TRACKER_TOKEN.",
        file=sys.stderr,
    )
    return 0


def cmd_token_list(db: Any, args: argparse.Namespace) -> int:
    import datetime as dt

    from tracker_server.domain import users
    from tracker_server.table import render

    now = dt.datetime.now(dt.UTC)
    headers = ("id", "user", "name", "token", "created", "expires", "state")
    rows = [
        (
            t.id,
            t.user,
            t.name,
            f"{t.hint}...",
            f"{t.created_at:%Y-%m-%d %H:%M}",
            f"{t.expires_at:%Y-%m-%d %H:%M}" if t.expires_at else "never",
            t.state(now),
        )
        for t in users.list_tokens(db, args.user)
    ]
    if not rows:
        print("No tokens." + ("" if args.user else " Create one with `tracker admin token create USER`."))
        return 0
    print(render(headers, rows, "table"))
    return 0


def cmd_token_revoke(db: Any, args: argparse.Namespace) -> int:
    from tracker_server.domain import users

    users.revoke_token(db, args.id)
    print(f"Revoked token {args.id}: it is refused from the next call on.")
    return 0


def cmd_project_create(db: Any, args: argparse.Namespace) -> int:
    from tracker_server.domain import members

    members.create_project(db, args.project, owner=args.owner)
    print(f"Created project {args.project!r}, owned by {args.owner!r} (admin).")
    return 0


def cmd_project_grant(db: Any, args: argparse.Namespace) -> int:
    from tracker_server.domain import members

    members.grant(db, args.project, args.user, args.role)
    print(f"{args.user!r} is now {args.role} of {args.project!r}.")
    return 0


def cmd_project_revoke(db: Any, args: argparse.Namespace) -> int:
    from tracker_server.domain import members

    members.revoke(db, args.project, args.user)
    print(f"{args.user!r} is no longer a member of {args.project!r}.")
    return 0


def cmd_project_members(db: Any, args: argparse.Namespace) -> int:
    from tracker_server.domain import members
    from tracker_server.table import render

    print(render(("user", "role"), members.members(db, args.project), "table"))
    return 0


def _guard(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn a missing server dependency or a client error into one clear line, not a traceback."""

    def run(args: argparse.Namespace) -> int:
        from tracker_client.errors import TrackerError

        try:
            return command(args)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.split(".")[0] in {
                "sqlalchemy",
                "alembic",
                "psycopg",
                "pydantic",
                "pydantic_settings",
                "grpc_health",
                "grpc_reflection",
            }:
                print(f"tracker: {SERVER_EXTRA_HINT} (missing {exc.name})", file=sys.stderr)
                return 2
            raise
        except (TrackerError, ValueError) as exc:
            print(f"tracker: {exc}", file=sys.stderr)
            return 1

    return run


def _client_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", "-p", default=None, help="project name [env TRACKER_PROJECT]")
    parser.add_argument(
        "--server",
        default=None,
        metavar="HOST:PORT",
        help="server address [env TRACKER_SERVER; default 127.0.0.1:6065]",
    )
    parser.add_argument(
        "--format", default="table", choices=("table", "csv", "json"), help="output format [default table]"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tracker",
        description="Tracker: a self-hosted experiment tracker. Log from training loops with "
        "`import tracker_client as tracker`; run a server with `tracker server`.",
        epilog="Try `tracker demo` for a complete example in under a minute.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    server = commands.add_parser(
        "server",
        help="run the Tracker server",
        description="Run the Tracker server (gRPC). Each option can also come from the TRACKER_* variable "
        "named in its help; command-line options win. The default database is a SQLite file in your "
        "data directory, upgraded automatically; a PostgreSQL database must be upgraded with "
        "`tracker db upgrade` first. SIGTERM or Ctrl-C stops it gracefully.",
    )
    _settings_options(server, SERVER_FIELDS)
    server.set_defaults(func=_guard(cmd_server))

    db = commands.add_parser("db", help="manage the database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    upgrade = db_commands.add_parser(
        "upgrade",
        help="upgrade the database schema to this version of Tracker",
        description="Apply every pending schema migration. Safe to run again: an up-to-date database is left "
        "as it is.",
    )
    _settings_options(upgrade, ("database_url",))
    upgrade.set_defaults(func=_guard(cmd_db_upgrade))

    admin = commands.add_parser(
        "admin",
        help="manage users and API tokens (operators, on the database directly)",
        description="Operator commands. They work on the database directly (--db or TRACKER_DATABASE_URL), "
        "not through a server, so run them where the database is reachable.",
    )
    admin_commands = admin.add_subparsers(dest="admin_command", required=True, metavar="COMMAND")
    user = admin_commands.add_parser("user", help="users").add_subparsers(
        dest="user_command", required=True, metavar="COMMAND"
    )
    user_create = user.add_parser(
        "create",
        help="create a user",
        description="Create a user. Users have no password: they authenticate with API tokens "
        "(`tracker admin token create`).",
    )
    user_create.add_argument("name", help="the user's name (1-256 printable characters)")
    user_create.add_argument("--admin", action="store_true", help="a server admin: manages everything")
    _admin_command(user_create, cmd_user_create)

    token = admin_commands.add_parser("token", help="API tokens").add_subparsers(
        dest="token_command", required=True, metavar="COMMAND"
    )
    token_create = token.add_parser(
        "create",
        help="create an API token for a user and print it once",
        description="Create an API token for USER and print it on stdout, once: only a hash is stored. "
        "Tokens start with trk_ so that a leaked one is recognisable.",
    )
    token_create.add_argument("user", help="the user the token speaks for")
    token_create.add_argument(
        "--name", default=None, metavar="LABEL", help="a label, e.g. the machine it is for"
    )
    token_create.add_argument(
        "--expires",
        default="90d",
        metavar="DURATION",
        help="lifetime such as 90d, 12h or 2w, or 'never' [default 90d]",
    )
    _admin_command(token_create, cmd_token_create)
    token_list = token.add_parser(
        "list",
        help="list tokens (never their secrets)",
        description="List API tokens: id, user, label, "
        "first characters, creation, expiry and state (active, expired, revoked).",
    )
    token_list.add_argument("user", nargs="?", default=None, help="only this user's tokens")
    _admin_command(token_list, cmd_token_list)
    token_revoke = token.add_parser(
        "revoke", help="revoke a token", description="Revoke token ID (from `tracker admin token list`)."
    )
    token_revoke.add_argument("id", type=int, help="the token's id")
    _admin_command(token_revoke, cmd_token_revoke)

    project = admin_commands.add_parser("project", help="projects and their members").add_subparsers(
        dest="project_command", required=True, metavar="COMMAND"
    )
    project_create = project.add_parser(
        "create",
        help="create a project with an owner",
        description="Create project P; OWNER becomes its admin.",
    )
    project_create.add_argument("project", metavar="P", help="the project's name")
    project_create.add_argument("--owner", required=True, metavar="USER", help="the user who administers it")
    project_grant = project.add_parser(
        "grant",
        help="give a user a role in a project",
        description="Give USER a role in project P, replacing the one they had: viewer reads; writer also "
        "creates runs and logs; admin also manages members and deletes runs.",
    )
    project_grant.add_argument("project", metavar="P")
    project_grant.add_argument("user", metavar="USER")
    project_grant.add_argument("role", choices=("viewer", "writer", "admin"))
    project_revoke = project.add_parser(
        "revoke", help="remove a user from a project", description="Remove USER from project P."
    )
    project_revoke.add_argument("project", metavar="P")
    project_revoke.add_argument("user", metavar="USER")
    project_members = project.add_parser("members", help="list a project's members and their roles")
    project_members.add_argument("project", metavar="P")
    _admin_command(project_create, cmd_project_create)
    _admin_command(project_grant, cmd_project_grant)
    _admin_command(project_revoke, cmd_project_revoke)
    _admin_command(project_members, cmd_project_members)

    demo = commands.add_parser(
        "demo",
        help="train a small sweep and log it, to see Tracker work",
        description="Train a two-layer numpy MLP over 12 hyperparameter combinations, log losses, accuracies "
        "and weight/gradient histograms, and print the runs best first. Uses TRACKER_SERVER when set, "
        "otherwise starts an embedded server on the default SQLite database and then serves its web UI "
        "until Ctrl-C.",
    )
    demo.add_argument("--server", default=None, metavar="HOST:PORT", help="log to this server instead")
    demo.add_argument(
        "--no-serve",
        action="store_true",
        help="exit when done, instead of serving the web UI of the embedded server until Ctrl-C",
    )
    demo.set_defaults(func=_guard(cmd_demo))

    runs = commands.add_parser(
        "runs",
        help="list a project's runs with hyperparameters and final metrics",
        description="List a project's runs, oldest first, with their hyperparameters and the last value "
        "of every metric.",
    )
    _client_options(runs)
    runs.set_defaults(func=_guard(cmd_runs))

    best = commands.add_parser(
        "best",
        help="the best hyperparameter combinations by a metric",
        description="Group the project's runs by identical hyperparameters (repeated seeds), aggregate a "
        "metric over each group and print the best groups first. Groups without the metric are left out; "
        "a NaN (diverged) aggregate ranks last.",
        epilog="--where takes comparisons (= != < <= > >=) and `in (...)` on hyperparameters and metrics, "
        "joined by `and`, e.g. \"lr < 0.01 and optimizer = 'adam'\"; see docs/queries.md.",
    )
    _client_options(best)
    best.add_argument("--metric", "-m", required=True, help="the metric (scalar tag) to rank by")
    direction = best.add_mutually_exclusive_group()
    direction.add_argument("--max", action="store_true", help="higher is better (the default)")
    direction.add_argument("--min", action="store_true", help="lower is better")
    best.add_argument("--top", type=int, default=5, help="how many combinations [default 5]")
    best.add_argument("--where", default=None, help="filter expression (see below)")
    best.add_argument(
        "--aggregate",
        default="mean",
        choices=("mean", "median", "min", "max", "std"),
        help="how a group combines its runs' values [default mean]",
    )
    best.add_argument(
        "--metric-value",
        default="last",
        choices=("last", "min", "max"),
        help="a run's value of the metric: its last point, or its min or max [default last]",
    )
    best.set_defaults(func=_guard(cmd_best))

    importance = commands.add_parser(
        "importance",
        help="how much each hyperparameter matters for a metric",
        description="For one metric, per hyperparameter: the permutation importance in a random forest "
        "fitted to the runs, and the Spearman rank correlation, over the runs with a finite value of the "
        "metric.",
    )
    _client_options(importance)
    importance.add_argument("--metric", "-m", required=True, help="the metric (scalar tag)")
    importance.add_argument("--where", default=None, help="filter expression, as for `tracker best`")
    importance.add_argument(
        "--metric-value",
        default="last",
        choices=("last", "min", "max"),
        help="a run's value of the metric [default last]",
    )
    importance.set_defaults(func=_guard(cmd_importance))

    importer = commands.add_parser("import", help="import runs from other tools")
    sources = importer.add_subparsers(dest="source", required=True, metavar="SOURCE")
    tensorboard = sources.add_parser(
        "tensorboard",
        help="import a TensorBoard logdir",
        description="Import TensorBoard event files: every folder under LOGDIR holding event files "
        "becomes a run named by its path below LOGDIR. Scalars, histograms, PR curves, text and "
        "hparams-plugin data are imported; images, audio and graphs are counted and skipped. Importing "
        "again stores nothing twice and picks up what was appended since. A corrupt or truncated record "
        "is reported with its file and offset, and the rest is imported.",
    )
    tensorboard.add_argument("logdir", metavar="LOGDIR", help="the TensorBoard log directory")
    tensorboard.add_argument(
        "--project", "-p", default=None, help="project to import into [default: LOGDIR's folder name]"
    )
    tensorboard.add_argument(
        "--server",
        default=None,
        metavar="HOST:PORT",
        help="server address [env TRACKER_SERVER; default 127.0.0.1:6065]",
    )
    tensorboard.add_argument("--token", default=None, help="API token [env TRACKER_TOKEN]")
    tensorboard.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    tensorboard.set_defaults(func=_guard(cmd_import_tensorboard))

    sync = commands.add_parser(
        "sync",
        help="upload offline runs and data a run could not deliver",
        description='Upload spool files: the runs logged with mode="offline" (TRACKER_MODE=offline), and '
        "what a run could not deliver before it ended (it printed the command to run). Each file is "
        "replayed in order to the server it names (or --server); syncing twice stores nothing twice, and "
        "an interrupted sync resumes where it stopped. Synced files are deleted unless --keep.",
    )
    sync.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="spool files or folders of them [default: the spool folder, TRACKER_SPOOL_DIR or "
        "<data dir>/spool]",
    )
    sync.add_argument(
        "--server", default=None, metavar="HOST:PORT", help="server address [default: the one the run used]"
    )
    sync.add_argument("--token", default=None, help="API token [env TRACKER_TOKEN]")
    sync.add_argument("--keep", action="store_true", help="keep the spool files after syncing")
    sync.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    sync.set_defaults(func=_guard(cmd_sync))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
