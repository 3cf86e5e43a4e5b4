"""Flask extensions, created unbound here and bound in create_app()."""
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sock import Sock
from flask_wtf.csrf import CSRFProtect

from models import db

migrate = Migrate(render_as_batch=True)
babel = Babel()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
login_manager = LoginManager()
login_manager.login_view = "inbox.login"
sock = Sock()

__all__ = ["db", "migrate", "babel", "csrf", "limiter", "login_manager", "sock"]
