"""The default taxonomy the shipped model knows, and the answers used when the text says nothing."""

HEADS = ("category", "sentiment", "urgency", "intent")

DEFAULT_LABELS = {
    "category": ("product_question", "order_delivery", "billing_payment", "cleanliness",
                 "food_drink", "staff_service", "facilities", "technical", "other"),
    "sentiment": ("positive", "neutral", "negative"),
    "urgency": ("urgent", "normal"),
    "intent": ("question", "request", "complaint", "praise", "suggestion"),
}

# The defined answer for empty text, emoji or digits only, or a language the model does not read.
FALLBACK_LABELS = {"category": "other", "sentiment": "neutral", "urgency": "normal",
                   "intent": "question"}

# Touchpoint kinds a brand can print a code for; anything else is treated as unknown.
TOUCHPOINT_KINDS = ("room", "table", "kiosk", "web", "link")

SEED_COLUMNS = ("text", "lang", "category", "sentiment", "urgency", "intent", "context")
