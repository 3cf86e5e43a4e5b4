"""The egress policy: where Kulak may connect for an address a person typed.

Alert channels, webhooks and (later) a brand's SMS gateway are URLs that staff type, and the
server connects to them: unguarded, any agent could make it reach 127.0.0.1, the private
network or a cloud's metadata service, and read the answer off the delivery log. Every such
send runs inside `guarded()`. The operator's own settings from the environment (the mail
sender on a local relay) are trusted and are not sent through it.

Apprise and requests open their connections themselves, so the policy sits where every one
of them passes, HTTP and SMTP alike: name resolution. Inside `guarded()` each answer of
`socket.getaddrinfo` is checked, and the connection goes to the very address that was checked,
so a name that resolves to a public address for the check and to 127.0.0.1 for the connection
(DNS rebinding) has no second look-up to exploit. A redirect opens a new connection and is
checked again.
"""
import contextvars
import ipaddress
import logging
import re
import socket
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l

log = logging.getLogger(__name__)

# The Apprise schemes the README documents for alerts. Each speaks HTTP (requests) or SMTP
# (smtplib), both of which the guard sees; others (MQTT, XMPP, desktop...) are refused outright.
# In these the URL names the server to connect to, which the form checks at once...
SERVER_SCHEMES = frozenset({
    "mailto", "mailtos", "ntfy", "ntfys", "json", "jsons", "form", "forms", "xml", "xmls",
    "mmost", "mmosts", "rocket", "rockets", "matrix", "matrixs", "gotify", "gotifys",
    "signal", "signals", "smseagle", "smseagles"})
# ...in these it holds tokens, and the plugin connects to its service's own public host,
# which the guard checks when sending like any other.
SERVICE_SCHEMES = frozenset({
    "tgram", "slack", "discord", "workflows", "zulip", "pover", "twilio", "vonage", "nexmo",
    "clicksend", "bulksms", "sinch", "msg91", "httpsms"})
ALERT_SCHEMES = SERVER_SCHEMES | SERVICE_SCHEMES
WEBHOOK_SCHEMES = frozenset({"http", "https"})
# Names that mean this machine or a cloud's metadata service whatever DNS says.
INTERNAL_NAMES = re.compile(r"(^|\.)(localhost|localdomain|internal|local)\.?$|^metadata\.?$",
                            re.IGNORECASE)
# What inet_aton reads as an IPv4 address besides the dotted quad: "2130706433", "127.1", "0x7f.1".
LEGACY_IPV4 = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$", re.IGNORECASE)
REFUSED = "refused by policy"
UNDELIVERED = "could not deliver"

EXPLAINED = {
    REFUSED: _l("refused by policy: Kulak does not send to internal or private addresses"),
    UNDELIVERED: _l("could not deliver: the service refused it or did not answer"),
}

# A form's answer when the address typed is one the policy will never connect to.
INTERNAL_REFUSED = _l("Refused by policy: Kulak does not send to this machine, a private "
                      "network or a metadata address. Use a public address.")

_watch = contextvars.ContextVar("kulak_egress", default=None)


class Refused(OSError):
    """A connection the egress policy does not allow (an OSError, as a failed connect is)."""


@dataclass
class Watch:
    """The policy of one guarded send, and the addresses it refused."""

    allow: tuple
    refused: list = field(default_factory=list)


def networks(text):
    """Parse the operator's allow-list ("127.0.0.1, 10.20.0.0/16"); raise ValueError if bad."""
    entries = [entry.strip() for entry in (text or "").split(",") if entry.strip()]
    try:
        return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)
    except ValueError as error:
        raise ValueError(f"KULAK_EGRESS_ALLOW: {error}; give addresses or networks such as "
                         "127.0.0.1 or 10.20.0.0/16, separated by commas") from None


def permitted(address, allow=()):
    """True if the policy lets Kulak connect to `address` (an IP address as text)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone says nothing here
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in network for network in allow):
        return True
    return ip.is_global and not ip.is_multicast


def literal_address(host):
    """Return `host` as the IP address it spells (in any form inet_aton reads), else None."""
    try:
        return str(ipaddress.ip_address(host.strip("[]").split("%", 1)[0]))
    except ValueError:
        pass
    if LEGACY_IPV4.match(host):
        try:
            return socket.inet_ntoa(socket.inet_aton(host))
        except OSError:
            return None
    return None


def problem(url, schemes, allow=()):
    """Return why `url` may not be used (REFUSED...), or None; names are judged at send time."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return UNDELIVERED
    if parts.scheme.lower() not in schemes:
        return REFUSED
    if parts.scheme.lower() in SERVICE_SCHEMES:
        return None
    address = literal_address(host) if host else None
    if address is not None:
        return None if permitted(address, allow) else REFUSED
    if INTERNAL_NAMES.search(host):
        return REFUSED
    return None


@contextmanager
def guarded(allow=()):
    """Run a send under the policy; yield its Watch, whose `refused` lists what was stopped."""
    _install()
    watch = Watch(tuple(allow))
    token = _watch.set(watch)
    try:
        yield watch
    finally:
        _watch.reset(token)


def outcome(watch, detail):
    """Return what a person is told of a failed send: refused by policy, or not delivered."""
    if watch.refused:
        log.warning("egress policy refused %s", ", ".join(watch.refused))
        return REFUSED
    log.info("send failed: %s", detail)  # the raw error is for the operator's log only
    return UNDELIVERED


def explain(problem_code):
    """Return a send's problem as a person reads it, in the current language."""
    return EXPLAINED.get(problem_code, problem_code)


def _check(host, answers):
    watch = _watch.get()
    if watch is None:
        return answers
    for *_, sockaddr in answers:
        if not permitted(sockaddr[0], watch.allow):
            watch.refused.append(f"{host} ({sockaddr[0]})")
            raise Refused(f"{host} is {sockaddr[0]}: {REFUSED}")
    return answers


def _getaddrinfo(host, port, *args, **kwargs):
    return _check(host, _next["getaddrinfo"](host, port, *args, **kwargs))


def _create_connection(address, *args, **kwargs):
    # smtplib connects through socket.create_connection, whose own look-up gevent replaces
    # with one the check above does not see: resolve here (checked), connect to that number.
    if _watch.get() is None:
        return _next["create_connection"](address, *args, **kwargs)
    host, port = address[0], address[1]
    error = Refused(f"{host}: no address")
    for *_, sockaddr in _getaddrinfo(host, port, 0, socket.SOCK_STREAM):
        try:
            return _next["create_connection"]((sockaddr[0], port), *args, **kwargs)
        except OSError as failure:
            error = failure
    raise error


_next = {}


def _install():
    """Put the checks in front of socket's look-ups, again if gevent replaced them since."""
    for name, check in (("getaddrinfo", _getaddrinfo),
                        ("create_connection", _create_connection)):
        current = getattr(socket, name)
        if current is not check:
            _next[name] = current
            setattr(socket, name, check)
