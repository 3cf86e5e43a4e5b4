"""The tests' receivers, which live in the harness the benchmarks share."""
from harness.receivers import HttpReceiver, SmtpInbox, wait_for

__all__ = ["HttpReceiver", "SmtpInbox", "wait_for"]
