"""Command-line tools: importing content, seeding, users and tokens."""

from __future__ import annotations

import signal
from datetime import timedelta
from pathlib import Path
from typing import NoReturn

import click
import sqlalchemy as sa
from flask import Flask, current_app, url_for
from flask.cli import AppGroup, with_appcontext

from api import edge_runner
from api.database import deploy_lock, transaction
from api.errors import DomainError
from api.extensions import db
from api.models import ApiToken, Essay, Webhook
from api.models.types import utcnow
from api.services import content, jobs
from api.services.accounts import identity, invitations
from api.services.aids import glossary
from api.services.outbound import webhooks
from api.services.search import index as search_index
from api.services.translation import catalog_export, catalog_import, catalogs

essays_cli = AppGroup("essays", help="Import and list essays.")
users_cli = AppGroup("users", help="Create and list users.")
tokens_cli = AppGroup("tokens", help="Issue, list and revoke API tokens.")
webhooks_cli = AppGroup("webhooks", help="Create, list and remove webhooks.")
search_cli = AppGroup("search", help="The search index.")


def _fail(error: DomainError) -> NoReturn:
    """A domain error as the command's failure: its detail, then what each field got wrong."""
    detail = str(error.detail or error.title)
    problems = error.extensions.get("errors") or {}
    lines = [f"{name}: {item}" for name, items in problems.items() for item in items]
    raise click.ClickException("\n".join([detail, *(x for x in lines if not x.endswith(detail))]))


@essays_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--slug", help="The essay's slug (default: the file name without .md).")
@click.option("--source-locale", default=None, help="The essay's language (default: config).")
def import_essay(path: Path, slug: str | None, source_locale: str | None) -> None:
    """Import a Markdown essay; re-importing changes only what changed."""
    report = content.import_markdown(
        path, slug, source_locale or current_app.config["SOURCE_LOCALE"]
    )
    click.echo(
        f"{report.slug}: {len(report.created)} created, {len(report.changed)} changed,"
        f" {len(report.unchanged)} unchanged"
        + (f"; not in the file (kept): {', '.join(report.missing)}" if report.missing else "")
    )


@essays_cli.command("list")
def list_essays() -> None:
    """List essays with their units."""
    for essay in db.session.scalars(sa.select(Essay).order_by(Essay.slug)):
        click.echo(f"{essay.slug} ({essay.source_locale}): {', '.join(u.key for u in essay.units)}")


@click.command("seed")
@with_appcontext
def seed() -> None:
    """Load the glossary, import the shipped essays and publish their translations.

    Several nodes may run it at once: one seeds while the others wait, then find
    everything loaded (``deploy_lock``).
    """
    with db.engine.connect() as connection, deploy_lock(connection, _waiting_for_deploy):
        _seed()


def _waiting_for_deploy() -> None:
    click.echo("Another node is migrating or seeding the database; waiting for it.")


def _seed() -> None:
    glossary_file = Path(current_app.config["GLOSSARY_FILE"])
    if glossary_file.is_file():
        terms = glossary.load_file(glossary_file)
        click.echo(
            f"glossary: {terms.created} created, {terms.updated} updated,"
            f" {terms.unchanged} unchanged"
        )
    source_dir = Path(current_app.config["ESSAY_SOURCE_DIR"])
    catalog_dir = Path(current_app.config["CATALOG_DIR"])
    for path in sorted(source_dir.glob("*.md")):
        report = content.import_markdown(path, None, current_app.config["SOURCE_LOCALE"])
        click.echo(
            f"{report.slug}: {len(report.created)} created, {len(report.changed)} changed,"
            f" {len(report.unchanged)} unchanged"
        )
        essay = content.get_essay(report.slug)
        for locale, catalog_path in catalogs.shipped_catalogs(catalog_dir, essay):
            po = catalogs.parse_catalog(catalog_path.read_text(encoding="utf-8"))
            if po.metadata.get(catalogs.ESSAY_HEADER, essay.slug) != essay.slug:
                continue
            loaded = catalogs.load_published(essay, locale, po)
            click.echo(
                f"  {locale}: {len(loaded.published)} published, {len(loaded.unchanged)}"
                f" unchanged, {len(loaded.skipped)} without translation"
            )
    with transaction():
        # A database migrated to the search index with its content already there.
        if search_index.is_empty():
            click.echo(f"search: {search_index.reindex()} documents indexed")
        # What readers of each locale are served from another follows the chains in force.
        elif served := search_index.serve_fallbacks():
            click.echo(f"search: {served} fallback entries brought in line")


@search_cli.command("reindex")
def reindex_search() -> None:
    """Write the whole search index again from what is published (one transaction)."""
    with transaction():
        count = search_index.reindex()
    click.echo(f"search: {count} documents indexed")


@users_cli.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(["translator", "reviewer", "admin"]), required=True)
@click.option("--locale", "locales", multiple=True, help="A locale the user works in.")
@click.option("--email", default=None, help="The user's email address.")
def create_user(name: str, role: str, locales: tuple[str, ...], email: str | None) -> None:
    """Create a user with a role, locales and an email address."""
    try:
        user = identity.create_user(name, role, locales, email=email)
    except DomainError as error:
        _fail(error)
    click.echo(
        f"Created {user.name} ({user.role}; locales: {', '.join(user.locales) or '-'};"
        f" email: {user.email or '-'})"
    )


@users_cli.command("password-link")
@click.argument("name")
@click.option(
    "--base-url",
    default="http://127.0.0.1:5000",
    show_default=True,
    help="Where the console is served, as people reach it.",
)
def password_link(name: str, base_url: str) -> None:
    """Make a link with which NAME chooses a password (once, for a day); shown once."""
    try:
        issued = invitations.password_reset(name, None)
    except DomainError as error:
        _fail(error)
    with current_app.test_request_context(base_url=base_url):
        url = url_for("console.new_password", token=issued.token, _external=True)
    click.echo(f"Password link for {name}, until {issued.link.expires_at:%Y-%m-%dT%H:%M:%SZ}:")
    click.echo(url)


@users_cli.command("list")
def list_users() -> None:
    """List users, their roles and locales."""
    for user in identity.list_users():
        state = "" if user.is_active else "\tdeactivated"
        click.echo(f"{user.name}\t{user.role}\t{','.join(user.locales)}\t{user.email or ''}{state}")


@tokens_cli.command("create")
@click.argument("name")
@click.option(
    "--expires-in-days",
    type=click.IntRange(1, None),
    default=None,
    help="Days until the token stops working (default: it never expires).",
)
def create_token(name: str, expires_in_days: int | None) -> None:
    """Issue a token for a user, with all their role may do. It is shown once, on the last line."""
    try:
        issued = identity.issue_token(name, expires_in_days)
    except DomainError as error:
        _fail(error)
    expires = issued.record.expires_at
    until = f", until {expires:%Y-%m-%dT%H:%M:%SZ}" if expires else ""
    click.echo(f"Token {issued.record.id} for {name}{until}. Keep it safe: it is not shown again.")
    click.echo(issued.token)


@tokens_cli.command("revoke")
@click.argument("name_or_id")
def revoke_token(name_or_id: str) -> None:
    """Revoke a token by id (or the token itself), or every token of a user by name."""
    try:
        revoked = identity.revoke_token(name_or_id)
    except DomainError as error:
        _fail(error)
    click.echo(f"Revoked {len(revoked)} token(s): {', '.join(str(t.id) for t in revoked)}")


@tokens_cli.command("list")
def list_tokens() -> None:
    """List tokens (never the tokens themselves): id, user, prefix, state, created, expires,
    scopes (``role`` for a token with all its user's role may do) and name."""
    now = utcnow()
    for token in db.session.scalars(sa.select(ApiToken).order_by(ApiToken.id)):
        if token.revoked_at:
            state = "revoked"
        elif token.expires_at and token.expires_at <= now:
            state = "expired"
        else:
            state = "live"
        expires = f"{token.expires_at:%Y-%m-%dT%H:%M:%SZ}" if token.expires_at else "never"
        click.echo(
            f"{token.id}\t{token.user.name}\t{token.prefix}…\t{state}\t"
            f"{token.created_at:%Y-%m-%dT%H:%M:%SZ}\t{expires}\t"
            f"{token.scopes or 'role'}\t{token.name or ''}"
        )


catalogs_cli = AppGroup("catalogs", help="Export and import an essay's PO catalogs.")


@catalogs_cli.command("export")
@click.argument("slug")
@click.argument("locale")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the catalog here instead of to standard output.",
)
def export_catalog(slug: str, locale: str, output: Path | None) -> None:
    """Write an essay's catalog in LOCALE (``template`` for the .pot)."""
    try:
        document = catalog_export.export(slug, None if locale == "template" else locale)
    except DomainError as error:
        _fail(error)
    if output is None:
        click.echo(document.body, nl=False)
        return
    output.write_bytes(document.body)
    click.echo(f"Wrote {output} ({len(document.body)} bytes)", err=True)


@catalogs_cli.command("import")
@click.argument("slug")
@click.argument("locale")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--user", "user_name", required=True, help="The translator the versions are by.")
@click.option("--approve", is_flag=True, help="Publish them too (reviewers; review rules apply).")
def import_catalog(slug: str, locale: str, path: Path, user_name: str, approve: bool) -> None:
    """Submit the changed entries of a PO file, as the HTTP upload does."""
    try:
        actor = identity.get_user(user_name)
        report = catalog_import.import_catalog(
            slug, locale, path.read_bytes(), actor, approve=approve
        )
    except DomainError as error:
        _fail(error)
    click.echo(
        f"{slug} {locale}: {report.created} created, {report.unchanged} unchanged,"
        f" {report.skipped} skipped"
        + (f"; versions {', '.join(map(str, report.translations))}" if report.translations else "")
    )
    for warning in report.warnings:
        click.echo(f"  {warning['key']}: {warning['message']}")


edge_cli = AppGroup("edge", help="The Varnish edge: its configuration, and serving behind it.")


@edge_cli.command("vcl")
@click.option(
    "--backend",
    "backends",
    multiple=True,
    default=["127.0.0.1:5000"],
    show_default=True,
    help="An app node's address (HOST:PORT); repeat it for every node.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=True, file_okay=False, path_type=Path),
    required=True,
    help="Directory for tarjuma.vcl and the site include written from the app's settings.",
)
def edge_vcl(backends: tuple[str, ...], out: Path) -> None:
    """Write the edge's VCL (the shipped logic plus this app's nodes, locales, TTL and ACL)."""
    path = edge_runner.write_vcl(current_app, backends, out)
    click.echo(str(path))


@edge_cli.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, help="The first app node's port.")
@click.option("--edge-port", default=5080, show_default=True, help="The first edge's port.")
@click.option("--nodes", type=click.IntRange(1, 32), default=1, show_default=True)
@click.option("--edges", type=click.IntRange(1, 32), default=1, show_default=True)
@click.option("--workers", type=click.IntRange(0, 32), default=1, show_default=True)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Varnish's working directory (default: instance/edge).",
)
def edge_run(
    host: str, port: int, edge_port: int, nodes: int, edges: int, workers: int, workdir: Path | None
) -> None:
    """Serve the app, Varnish in front of it and the worker; Ctrl-C stops them all.

    With --nodes, --edges and --workers, a cluster on one machine: app nodes on consecutive
    ports from --port, edges from --edge-port, every edge spreading over every node.
    """
    if nodes > 1 and db.engine.url.get_backend_name() == "sqlite":
        raise click.UsageError("several app nodes need PostgreSQL (DATABASE_URL)")
    directory = workdir or Path(current_app.instance_path) / "edge"
    layout = edge_runner.Layout(host, port, edge_port, nodes, edges, workers)
    raise SystemExit(edge_runner.run(current_app, layout, directory))


@click.command("worker")
@click.option("--threads", type=click.IntRange(1, 64), default=None, help="Jobs run at once.")
@click.option("--once", is_flag=True, help="Run the jobs due now, then stop.")
@click.option("--status", "show_status", is_flag=True, help="Show how the jobs stand, then stop.")
@with_appcontext
def worker(threads: int | None, once: bool, show_status: bool) -> None:
    """Do the work changes leave behind: webhooks, retried purges, scheduled releases."""
    if show_status:
        _print_status(jobs.status())
        return
    if once:
        click.echo(f"{jobs.run_due()} job(s) run")
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    days = int(app.config["JOB_RETENTION_DAYS"])
    runner = jobs.Worker(
        app,
        threads=threads or app.config["WORKER_THREADS"],
        poll=app.config["WORKER_POLL_INTERVAL"],
        retention=timedelta(days=days) if days > 0 else None,
        stop_timeout=app.config["WORKER_STOP_TIMEOUT"],
    )

    def on_signal(_signum: int, _frame: object) -> None:
        # As rq does: the first signal lets the jobs under way finish, the second does not.
        if runner.stopping.is_set():
            runner.halt()
        else:
            runner.stop()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    click.echo(
        f"Worker started with {runner.threads} thread(s); Ctrl-C stops it"
        f" (after the jobs under way, up to {runner.stop_timeout:g} s; twice: at once).",
        err=True,
    )
    runner.run()


def _print_status(kinds: list[jobs.KindStatus]) -> None:
    if not kinds:
        click.echo("No jobs.")
        return
    now = utcnow()
    states = list(next(iter(kinds)).states)
    click.echo(
        f"{'kind':<18}"
        + "".join(f"{s:>9}" for s in states)
        + f"{'due':>7}{'lapsed':>8}  oldest due"
    )
    for entry in kinds:
        late = f"{(now - entry.oldest_due).total_seconds():.0f} s ago" if entry.oldest_due else "-"
        counts = "".join(f"{entry.states[s]:>9}" for s in states)
        click.echo(f"{entry.kind:<18}{counts}{entry.due:>7}{entry.lapsed:>8}  {late}")


@webhooks_cli.command("create")
@click.argument("url")
@click.option("--event", "events", multiple=True, required=True, help="An event type to send.")
@click.option("--locale", "locales", multiple=True, help="Only changes in this locale.")
@click.option("--description", default=None, help="What the webhook is for.")
def create_webhook(
    url: str, events: tuple[str, ...], locales: tuple[str, ...], description: str | None
) -> None:
    """Subscribe URL to event types. The signing secret is shown once, on the last line."""
    try:
        created = webhooks.create(url, events, locales, description, actor=None)
    except DomainError as error:
        _fail(error)
    hook = created.webhook
    click.echo(
        f"Webhook {hook.id} for {hook.url} ({', '.join(hook.events)}). Keep the secret safe:"
        " it is not shown again."
    )
    click.echo(created.secret)


@webhooks_cli.command("rotate-secret")
@click.argument("webhook_id", type=int)
@click.option(
    "--keep-previous-for",
    type=click.IntRange(0),
    default=int(webhooks.DEFAULT_SECRET_OVERLAP.total_seconds()),
    show_default=True,
    help="Seconds the old secret keeps signing beside the new one (0: stop at once).",
)
def rotate_webhook_secret(webhook_id: int, keep_previous_for: int) -> None:
    """Give a webhook a new signing secret, shown once, on the last line."""
    try:
        created = webhooks.rotate_secret(
            webhook_id, timedelta(seconds=keep_previous_for), actor=None
        )
    except DomainError as error:
        _fail(error)
    until = created.webhook.previous_secret_expires_at
    old = f"signs beside it until {until:%Y-%m-%d %H:%M:%S} UTC" if until else "no longer signs"
    click.echo(f"Webhook {webhook_id} has a new secret; the old one {old}. Keep it safe:")
    click.echo(created.secret)


@webhooks_cli.command("reseal")
def reseal_webhook_secrets() -> None:
    """Encrypt stored secrets with the current SECRET_KEY (then drop SECRET_KEY_FALLBACKS)."""
    done = webhooks.reseal()
    click.echo(f"{done.resealed} webhook secrets encrypted with the current SECRET_KEY")
    if done.undecryptable:
        ids = ", ".join(map(str, done.undecryptable))
        raise click.ClickException(f"no key decrypts the secret of webhooks {ids}: rotate them")


@webhooks_cli.command("list")
def list_webhooks() -> None:
    """List webhooks (never their secrets)."""
    for hook in db.session.scalars(sa.select(Webhook).order_by(Webhook.id)):
        state = "enabled" if hook.enabled else f"disabled ({hook.disabled_reason})"
        click.echo(
            f"{hook.id}\t{hook.url}\t{','.join(hook.events)}\t{','.join(hook.locales) or '*'}"
            f"\t{state}"
        )


@webhooks_cli.command("delete")
@click.argument("webhook_id", type=int)
def delete_webhook(webhook_id: int) -> None:
    """Remove a webhook and its delivery log."""
    try:
        webhooks.delete(webhook_id, actor=None)
    except DomainError as error:
        _fail(error)
    click.echo(f"Deleted webhook {webhook_id}")


def register(app: Flask) -> None:
    for command in (
        essays_cli,
        users_cli,
        tokens_cli,
        seed,
        catalogs_cli,
        worker,
        webhooks_cli,
        edge_cli,
        search_cli,
    ):
        app.cli.add_command(command)
