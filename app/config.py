"""Configuration: the one place that reads the environment."""
import os
import secrets
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _instance_path(environ):
    # The working folder, not the package's: an installed package may sit read-only in
    # site-packages, and `kulak demo && kulak serve` in a checkout keeps using ./instance.
    return Path(environ.get("KULAK_INSTANCE") or Path.cwd() / "instance").resolve()


def _secret_key(environ, instance):
    """Use SECRET_KEY, else one generated once and kept in the instance folder."""
    if environ.get("SECRET_KEY"):
        return environ["SECRET_KEY"]
    key_file = instance / "secret_key"
    if not key_file.exists():
        instance.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _database_url(environ, instance):
    url = environ.get("DATABASE_URL") or f"sqlite:///{instance / 'kulak.db'}"
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants the psycopg 3 driver named.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _mail_url(environ):
    """Return KULAK_MAIL_URL (None when unset); refuse, at start, one Kulak cannot send with."""
    url = (environ.get("KULAK_MAIL_URL") or "").strip() or None
    if url is not None:
        from app.mail.smtp import read
        try:
            read(url)
        except ValueError as error:  # its words never repeat the URL, which holds a password
            raise ValueError(f"KULAK_MAIL_URL {error}") from None
    return url


class Config:
    """Settings read from the environment once, when the app is created."""

    def __init__(self, environ=None):
        environ = os.environ if environ is None else environ
        instance = _instance_path(environ)
        self.INSTANCE_PATH = str(instance)
        self.SECRET_KEY = _secret_key(environ, instance)
        # Where the shipped tagging model is built once (seconds of CPU) and then loaded.
        self.MODEL_DIR = str(Path(environ.get("KULAK_MODEL_DIR") or instance / "models"))
        self.SQLALCHEMY_DATABASE_URI = _database_url(environ, instance)
        # Connections idle for a while are pinged before use (models/pool.py), not every one.
        self.SQLALCHEMY_ENGINE_OPTIONS = {}
        if not self.SQLALCHEMY_DATABASE_URI.startswith("sqlite"):
            # gevent workers serve many requests at once: allow enough connections per process.
            self.SQLALCHEMY_ENGINE_OPTIONS.update(pool_size=10, max_overflow=20, pool_timeout=10)
        self.REDIS_URL = environ.get("REDIS_URL") or None
        self.PUBLIC_URL = (environ.get("KULAK_PUBLIC_URL") or "http://127.0.0.1:8000").rstrip("/")
        self.DEMO_PASSWORD = environ.get("KULAK_DEMO_PASSWORD") or None
        self.BABEL_DEFAULT_LOCALE = "en"
        self.LANGUAGES = ("en", "tr")
        self.WTF_CSRF_TIME_LIMIT = None
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = self.PUBLIC_URL.startswith("https://")
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "memory://"
        self.RATELIMIT_ENABLED = environ.get("KULAK_RATE_LIMITS", "on") != "off"
        self.RATELIMIT_HEADERS_ENABLED = True
        # Per client address: generous for a venue's shared Wi-Fi, tight enough to stop a flood.
        self.CUSTOMER_POST_LIMIT = environ.get("KULAK_CUSTOMER_POST_LIMIT") or "60/minute;600/hour"
        self.MAX_CONTENT_LENGTH = 64 * 1024
        # Per API token (app/api): a CRM's sync loop, not a flood; the same store as above.
        self.API_RATE_LIMIT = environ.get("KULAK_API_RATE_LIMIT") or "600/minute"
        # flask-smorest writes the OpenAPI document from the API's schemas (app/api).
        self.API_TITLE = "Kulak API"
        self.API_VERSION = "1"
        self.OPENAPI_VERSION = "3.1.0"
        self.OPENAPI_URL_PREFIX = "/api/v1"
        self.OPENAPI_JSON_PATH = "openapi.json"
        # /metrics names every endpoint and its traffic: off (404) unless a scraper's bearer
        # token is set.
        self.METRICS_TOKEN = environ.get("KULAK_METRICS_TOKEN") or None
        # Under `kulak serve`, each gunicorn worker writes its metrics to files in a folder
        # made fresh for that start (inside KULAK_METRICS_DIR, else the system's temporary
        # folder) and named to the workers in prometheus-client's own variable; /metrics sums
        # them. Unset (flask run, the tests' app): the process's own metrics.
        self.METRICS_DIR_PARENT = environ.get("KULAK_METRICS_DIR") or None
        self.METRICS_MULTIPROC_DIR = environ.get("PROMETHEUS_MULTIPROC_DIR") or None
        # Proxies in front of Kulak whose X-Forwarded-* headers are trusted (load balancers):
        # without this every customer behind one would share its address and rate limit.
        self.PROXY_COUNT = int(environ.get("KULAK_PROXY_COUNT") or 0)
        # Without Redis there is no worker process: the web process sweeps the outbox itself,
        # so held alerts and escalation levels survive a restart.
        self.OUTBOX_SWEEP_IN_PROCESS = not self.REDIS_URL
        # An alert job that has not finished this long after it was queued, or a claimed alert
        # not sent this long after its claim, belongs to a worker that died: it is run again.
        self.OUTBOX_REDISPATCH_SECONDS = int(environ.get("KULAK_OUTBOX_REDISPATCH_SECONDS") or 60)
        self.ALERT_CLAIM_SECONDS = int(environ.get("KULAK_ALERT_CLAIM_SECONDS") or 60)
        # The one sender of outgoing mail (invitations, password resets): the operator's own
        # SMTP account as an Apprise mailto:// or mailtos:// URL; unset, links are shown instead.
        self.MAIL_URL = _mail_url(environ)
        # Alert channels and webhooks that staff type never reach loopback, private or
        # metadata addresses (app/core/egress.py), except the networks listed here: an
        # install's own receivers on its private network, or the tests' on 127.0.0.1.
        from app.core.egress import networks
        self.EGRESS_ALLOW = networks(environ.get("KULAK_EGRESS_ALLOW"))

    def as_dict(self):
        """Return the settings as a mapping for app.config.from_mapping."""
        return {k: v for k, v in vars(self).items() if k.isupper()}
