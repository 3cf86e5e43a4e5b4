"""Outgoing mail through the one sender the operator configures (KULAK_MAIL_URL)."""
# send_mail() keeps the mail and queues its delivery, or returns None without a sender: the
# caller then shows the link the mail would have carried. configured() says which it will be.
from app.mail.sending import (
    configured,
    deliver_mail,
    first_outcome,
    queue_stalled,
    send_mail,
    shown_sender,
)

__all__ = ["configured", "deliver_mail", "first_outcome", "queue_stalled", "send_mail",
           "shown_sender"]
