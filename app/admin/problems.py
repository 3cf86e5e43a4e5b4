"""The one refusal every brand setup operation raises: what is wrong, and which field."""


class SetupProblem(ValueError):
    """A value cannot be used; `message` says why (for a person), `field` names the field."""

    def __init__(self, message, field=None):
        super().__init__(str(message))
        self.message, self.field = message, field

    def __str__(self):
        return str(self.message)
