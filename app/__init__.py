"""Kulak: customer feedback and live chat behind a QR code, a link or an iframe."""
from pathlib import Path

from flask import Flask

from app.config import Config
from app.extensions import babel, csrf, db, limiter, login_manager, migrate, sock

MIGRATIONS_DIR = str(Path(__file__).resolve().parent / "migrations")


def create_app(overrides=None, environ=None):
    """Build the Flask app from the environment, with optional test overrides."""
    config = Config(environ).as_dict()
    app = Flask(__name__, instance_path=config["INSTANCE_PATH"], instance_relative_config=True)
    app.config.from_mapping(config)
    app.config.from_mapping(overrides or {})
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    # Before any blueprint adds its rules: every <int:…> in every URL is bounded to an id a row
    # can have (ID_MAX), so a bigger number is a 404 instead of a database error.
    from app.core.validators import IdConverter
    app.url_map.converters["int"] = IdConverter

    from app import alerts, api, realtime
    from app.core import assets, i18n, navigation, permissions, rendering, security, serving
    from app.reach import away

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    babel.init_app(app, locale_selector=i18n.select_locale)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    sock.init_app(app)
    serving.init_app(app)  # its after_request is registered first, so it runs last
    alerts.init_app(app)  # first: a new conversation's alert is queued before anything else
    realtime.init_app(app)
    away.init_app(app)  # after realtime: a reply's page push goes first
    security.init_app(app)
    i18n.init_app(app)
    assets.init_app(app)
    rendering.init_app(app)
    permissions.init_app(app)
    navigation.init_app(app)
    api.init_app(app)  # registers its blueprint: /api/v1 and its OpenAPI document

    from app.admin import bp as admin_bp
    from app.core import bp as core_bp
    from app.inbox import bp as inbox_bp
    from app.reports import bp as reports_bp
    from app.widget import bp as widget_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(widget_bp)
    app.register_blueprint(inbox_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(realtime.bp)
    # Customer forms carry no cookie and so no ambient authority to forge: the capability
    # token in the URL is the credential, which a cross-site form cannot know.
    csrf.exempt(widget_bp)
    return app
