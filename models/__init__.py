"""SQLAlchemy models, one module per aggregate; this package owns `db` and imports no Flask app."""
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints let Alembic alter tables on SQLite (batch mode) and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Sessions live for one request (or job). Reloading every object after each commit would cost
# a query per object on the hottest paths (a customer's post) and show nothing new.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})


def run_alone(statement, params=None):
    """Run one statement on a connection of its own, in autocommit, and return its first row:
    one round trip, with no BEGIN before it and no COMMIT or ROLLBACK after it."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        return connection.execute(statement, params or {}).first()

import models.pool  # noqa: E402,F401 - registers the idle-connection check on every pool
from models.access import Invitation, OneTimeLink, StaffSession  # noqa: E402
from models.alerting import AlertDelivery, AlertTarget, OutboxEvent  # noqa: E402
from models.api import ApiToken, IdempotentRequest  # noqa: E402
from models.brand import Brand, Category, Touchpoint  # noqa: E402
from models.contact import Contact, ContactVerification, CustomerNotice, Erasure  # noqa: E402
from models.conversation import Conversation, Message, TagCorrection  # noqa: E402
from models.escalation import Escalation, EscalationLevel  # noqa: E402
from models.mail import OutgoingMail  # noqa: E402
from models.routing import RoutingRule  # noqa: E402
from models.satisfaction import Rating  # noqa: E402
from models.staff import CannedReply, StaffMember, Team  # noqa: E402
from models.survey import Answer, Question, Survey, SurveyResponse  # noqa: E402
from models.tagger import TaggerVersion  # noqa: E402
from models.webhook import Webhook, WebhookDelivery  # noqa: E402

__all__ = [
    "db", "ApiToken", "IdempotentRequest", "Brand", "Category", "Touchpoint", "Conversation", "Message", "StaffMember", "Team",
    "Survey", "Question", "SurveyResponse", "Answer", "TagCorrection", "CannedReply", "TaggerVersion",
    "RoutingRule", "Rating", "AlertTarget", "OutboxEvent", "AlertDelivery", "Escalation", "EscalationLevel",
    "Webhook", "WebhookDelivery", "OneTimeLink", "Invitation", "OutgoingMail", "StaffSession",
    "Contact", "ContactVerification", "CustomerNotice", "Erasure",
]
