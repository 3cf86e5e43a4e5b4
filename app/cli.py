"""The `kulak` command: serve, worker, demo, brand, assets, and Flask-Migrate's `db` commands."""
import os
import sys

import click
from flask.cli import FlaskGroup, with_appcontext

from app import create_app


@click.group(cls=FlaskGroup, create_app=create_app, add_version_option=False,
             load_dotenv=False, set_debug_flag=False)
def main():
    """Kulak: customer feedback and live chat."""


def _install_assets():
    from flask import current_app

    from app.core import assets
    try:
        # Into the instance folder: an installed package's own folder may not be writable.
        for name in assets.install(assets.instance_vendor_dir(current_app)):
            click.echo(f"installed {name} (sha256 checked)")
    except assets.AssetError as error:
        click.echo(f"warning: {error}; pages work without htmx, with full reloads", err=True)
    # The classifier's shipped model is built from its seed data once per machine (seconds),
    # here rather than on the first customer message.
    from app.tagging.service import shipped_model
    shipped_model()


def _prepare_database():
    from flask_migrate import upgrade
    upgrade()


@main.command("assets")
def assets_command():
    """Fetch the pinned htmx files (sha256 checked) and build the classifier's model."""
    _install_assets()


@main.command("demo")
@with_appcontext
def demo_command():
    """Create or update the demo brand, its touchpoints, survey, team and staff."""
    from flask import current_app

    from app.demo import seed_demo
    _install_assets()
    _prepare_database()
    credentials = seed_demo(current_app.config["DEMO_PASSWORD"])
    public = current_app.config["PUBLIC_URL"]
    click.echo(f"Demo brand ready: {public}/b/demo/room-412 (QR sheet: {public}/qr/demo)")
    for email, password in credentials.items():
        click.echo(f"  staff {email}  password {password}")
    if not credentials:
        click.echo("  staff passwords unchanged (set KULAK_DEMO_PASSWORD to reset them)")


@main.group("brand")
def brand_group():
    """Create and list brands."""


@brand_group.command("create")
@click.argument("slug")
@click.option("--name", required=True, help='The brand\'s name, e.g. "Hotel Bosphorus".')
@click.option("--admin", "admin_email", required=True, help="The email of the brand's admin.")
@click.option("--language", type=click.Choice(["en", "tr"]), default="en", show_default=True,
              help="The brand's default language.")
@with_appcontext
def brand_create_command(slug, name, admin_email, language):
    """Create a brand with its defaults; print its admin's one-time set-password link."""
    from flask import current_app

    from app.admin.problems import SetupProblem
    from app.admin.setup import create_brand
    from app.inbox.accounts import password_link_url
    _prepare_database()
    try:
        brand, admin, token = create_brand(slug, name, admin_email, language)
    except SetupProblem as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(2)
    public = current_app.config["PUBLIC_URL"]
    click.echo(f"Brand {brand.slug} ({brand.name}) created, with its admin {admin.email}.")
    click.echo(f"  customer link: {public}/b/{brand.slug}/web   QR sheet: {public}/qr/{brand.slug}")
    click.echo("  The admin sets a password with this one-time link (valid 24 hours):")
    # The link's path comes from url_for, which needs a request context outside a request.
    with current_app.test_request_context("/"):
        click.echo(password_link_url(token))


@brand_group.command("list")
@with_appcontext
def brand_list_command():
    """List the brands: address, name, language, staff."""
    from app.admin.setup import brands
    _prepare_database()
    rows = brands()
    if not rows:
        click.echo("No brands yet: kulak brand create SLUG --name NAME --admin EMAIL")
    for brand, staff in rows:
        click.echo(f"{brand.slug}\t{brand.name}\t{brand.default_language}\t{staff} staff")


@main.group("staff")
def staff_group():
    """Help members of staff into their accounts."""


@staff_group.command("reset-link")
@click.argument("email")
@with_appcontext
def staff_reset_link_command(email):
    """Print a one-time link (valid 1 hour) with which EMAIL chooses a new password."""
    from flask import current_app

    from app.extensions import db
    from app.inbox.accounts import reset_link
    from models import StaffMember
    _prepare_database()
    staff = db.session.scalar(db.select(StaffMember).filter_by(email=email.strip().lower()))
    if staff is None or not staff.active:
        click.echo(f"Error: no active member of staff has the address {email}.", err=True)
        sys.exit(2)
    click.echo(f"{staff.name} ({staff.email}, {staff.brand.name}) chooses a new password with "
               "this one-time link (valid 1 hour):")
    with current_app.test_request_context("/"):
        click.echo(reset_link(staff))


@main.group("token")
def token_group():
    """API tokens for a brand's CRM or scripts."""


def _brand_or_exit(slug):
    from app.extensions import db
    from models import Brand
    brand = db.session.scalar(db.select(Brand).filter_by(slug=slug))
    if brand is None:
        click.echo(f"Error: there is no brand {slug!r} (kulak brand list shows them).", err=True)
        sys.exit(2)
    return brand


@token_group.command("create")
@click.argument("brand_slug", metavar="BRAND")
@click.argument("name")
@click.option("--read-only", is_flag=True, help="The token may read, never write.")
@with_appcontext
def token_create_command(brand_slug, name, read_only):
    """Create an API token for BRAND named NAME; print it (once) as the last line."""
    from app.admin.api_tokens import create_token
    from models.api import TOKEN_NAME_MAX
    _prepare_database()
    brand, name = _brand_or_exit(brand_slug), name.strip()
    if not 0 < len(name) <= TOKEN_NAME_MAX:
        click.echo(f"Error: a token's name has 1 to {TOKEN_NAME_MAX} characters.", err=True)
        sys.exit(2)
    token, plain = create_token(brand.id, name, read_only)
    mode = "read-only" if read_only else "read-write"
    click.echo(f"Token {token.id} ({name}, {mode}) created for {brand.slug}; it is not shown "
               "again:")
    click.echo(plain)


@token_group.command("list")
@click.argument("brand_slug", metavar="BRAND")
@with_appcontext
def token_list_command(brand_slug):
    """List BRAND's API tokens: id, name, start, mode, last use, revocation."""
    from models import ApiToken
    _prepare_database()
    for token in ApiToken.for_brand(_brand_or_exit(brand_slug).id):
        click.echo("\t".join(str(part) for part in (
            token.id, token.name, token.hint + "…", "read-only" if token.read_only
            else "read-write", token.last_used_at or "never used",
            f"revoked {token.revoked_at}" if token.revoked_at else "active")))


@token_group.command("revoke")
@click.argument("brand_slug", metavar="BRAND")
@click.argument("token_id", type=int)
@with_appcontext
def token_revoke_command(brand_slug, token_id):
    """Revoke BRAND's token TOKEN_ID: the next request that carries it is refused."""
    from app.admin.api_tokens import revoke_token
    from app.extensions import db
    from models import ApiToken
    _prepare_database()
    brand = _brand_or_exit(brand_slug)
    token = db.session.get(ApiToken, token_id)
    if token is None or token.brand_id != brand.id:
        click.echo(f"Error: {brand.slug} has no token {token_id}.", err=True)
        sys.exit(2)
    revoke_token(token)
    click.echo(f"Token {token_id} ({token.name}) revoked.")


@main.command("worker")
@with_appcontext
def worker_command():
    """Run the background worker: alerts first, then other jobs, with scheduled ones."""
    from flask import current_app

    from app.worker import run
    run(current_app._get_current_object())


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", type=int, default=None,
              help="Web processes (default: 1 without REDIS_URL, else 2 per core).")
@with_appcontext
def serve_command(host, port, workers):
    """Run the production server: gunicorn with gevent workers."""
    from flask import current_app

    from app.extensions import db
    from app.server import exec_gunicorn, fresh_metrics_dir
    _install_assets()
    _prepare_database()
    # Workers open their own connections after the fork; none may be inherited.
    db.engine.dispose()
    if workers is None:
        # Without Redis, live events fan out inside one process, so there must be one.
        workers = 2 * (os.cpu_count() or 1) if current_app.config["REDIS_URL"] else 1
    # Every worker's metrics in files there, so /metrics sums all of them, whichever answers.
    metrics_dir = fresh_metrics_dir(current_app.config["METRICS_DIR_PARENT"])
    exec_gunicorn(f"{host}:{port}", workers, metrics_dir)
