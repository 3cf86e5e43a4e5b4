"""Domain events: the seam where live updates, classification, alerts and webhooks attach.

Senders emit after the database commit, so a receiver never sees data that could roll back.
"""
from blinker import Namespace

_events = Namespace()

conversation_started = _events.signal("conversation-started")
# Sent with changed=False when the message left the header as it was (status line aside):
# live pages then redraw only the thread; `retagged` names the tags it moved, whose choices
# are swapped in alone.
message_posted = _events.signal("message-posted")
# Status, assignment, tags or the seen marker changed: pages showing it redraw.
conversation_changed = _events.signal("conversation-changed")
# Staff have the customer's newest message on screen: only the customer's page changes. Sent
# with the conversation's id and what the customer's "Seen" line needs (brand_id,
# touchpoint_id, seen_id, language), so no receiver reads the conversation again.
conversation_seen = _events.signal("conversation-seen")
# A member of staff's sessions ended (deactivated, password changed): every process closes
# their open sockets at once.
staff_sessions_ended = _events.signal("staff-sessions-ended")
