"""One message to one recipient through the SMTP server an Apprise mailto:// URL names."""
# Apprise reads the URL: the format operators already use for alerts, with its providers'
# presets (mailtos://me:password@gmail.com finds smtp.gmail.com:587). Kulak writes the message
# itself, because Apprise's email plugin sends a single body: given HTML it makes the plain-text
# part out of the HTML and drops every link's address, so a password-reset mail read as plain
# text would carry no link. No Flask here: the configuration check at start-up uses it too.
import functools
import logging
import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from urllib.parse import urlsplit

import apprise

SCHEMES = ("mailto", "mailtos")
EXAMPLE = "mailtos://user:password@smtp.example.com:587?from=Name<address@example.com>"


@dataclass(frozen=True)
class Sender:
    """Where and as whom Kulak sends mail, as Apprise read it from the URL."""

    scheme: str
    host: str
    port: int
    security: str  # Apprise's names: "starttls", "ssl" or "insecure"
    from_name: str
    from_address: str
    reply_to: tuple = ()
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    verify_certificate: bool = True
    timeout: float = 15.0


@functools.lru_cache(maxsize=8)
def read(url):
    """Return the Sender `url` names, or raise ValueError saying why not (without the URL)."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in SCHEMES:
        named = f"{scheme}://" if scheme else "a URL without a scheme"
        raise ValueError(f"must be an Apprise email URL such as {EXAMPLE} "
                         f"(or mailto:// without TLS), not {named}")
    with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:
        plugin = apprise.Apprise.instantiate(url, asset=apprise.AppriseAsset(app_id="Kulak"))
    if plugin is None or not getattr(plugin, "smtp_host", None):
        said = next((line for line in captured.getvalue().splitlines() if line.strip()), "")
        password = urlsplit(url).password
        if password:
            said = said.replace(password, "***")
        raise ValueError(f"cannot be read as an email URL ({said or 'Apprise refused it'}); "
                         f"the form is {EXAMPLE}")
    name, address = plugin.from_addr
    return Sender(scheme=scheme, host=plugin.smtp_host, port=int(plugin.port),
                  security=plugin.secure_mode, from_name=name or "", from_address=address,
                  reply_to=tuple(sorted(plugin.reply_to)), user=plugin.user or None,
                  password=plugin.password or None,
                  verify_certificate=bool(plugin.verify_certificate),
                  timeout=float(plugin.socket_connect_timeout or 15))


def compose(sender, to, subject, text, html=None):
    """Return the message: plain text, and HTML as its alternative when there is some."""
    message = EmailMessage()
    message["Subject"] = " ".join(subject.split())
    message["From"] = formataddr((sender.from_name, sender.from_address))
    message["To"] = to
    if sender.reply_to:
        message["Reply-To"] = ", ".join(sender.reply_to)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.from_address.rpartition("@")[2])
    # Sent by a program (RFC 3834): out-of-office replies are not sent back to it.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    return message


def send(sender, message, to):
    """Hand `message` to the server for `to` alone; return None, or what went wrong in words."""
    try:
        context = _tls_context(sender)
        if sender.security == "ssl":
            connection = smtplib.SMTP_SSL(sender.host, sender.port, timeout=sender.timeout,
                                          context=context)
        else:
            connection = smtplib.SMTP(sender.host, sender.port, timeout=sender.timeout)
        with connection as smtp:
            if sender.security == "starttls":
                smtp.starttls(context=context)
            if sender.user and sender.password:
                smtp.login(sender.user, sender.password)
            # The envelope names `to` only: the URL's own to=, cc= or bcc= never get a copy.
            smtp.send_message(message, from_addr=sender.from_address, to_addrs=[to])
    except (OSError, smtplib.SMTPException) as error:
        return in_words(error, sender)
    return None


def _tls_context(sender):
    context = ssl.create_default_context()
    if not sender.verify_certificate:  # the operator's own choice: ?verify=no in the URL
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _said(code, said):
    """Return a server's answer (code and bytes) as one line of text."""
    said = said.decode("utf-8", "replace") if isinstance(said, bytes) else str(said)
    return f"{code} {' '.join(said.split())}"


def _answer(error):
    return _said(error.smtp_code, error.smtp_error)


def in_words(error, sender):
    """Say what went wrong, for a person: the server's answer or the network's, never a trace."""
    server = f"{sender.host}:{sender.port}"
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return f"The mail server {server} refused the user name or password: {_answer(error)}"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        answers = "; ".join(_said(code, said) for code, said in error.recipients.values())
        return f"The mail server {server} refused the recipient: {answers}"
    if isinstance(error, smtplib.SMTPSenderRefused):
        return (f"The mail server {server} refused the sender {sender.from_address}: "
                f"{_answer(error)}")
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return (f"The mail server {server} does not offer STARTTLS: use ?mode=ssl, or "
                f"mailto:// if it really takes mail without encryption")
    if isinstance(error, smtplib.SMTPResponseException):
        return f"The mail server {server} answered {_answer(error)}"
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return f"The mail server {server} closed the connection before the mail was sent"
    if isinstance(error, ssl.SSLCertVerificationError):
        return (f"The mail server {server} showed a certificate Kulak cannot trust: "
                f"{error.verify_message}")
    if isinstance(error, ssl.SSLError):
        return f"The encrypted connection to {server} failed: {error.reason or error}"
    if isinstance(error, ConnectionRefusedError):
        return f"The mail server {server} refused the connection: is it running on that port?"
    if isinstance(error, socket.gaierror):
        return f"The mail server's name {sender.host} could not be found"
    if isinstance(error, TimeoutError):
        return f"The mail server {server} did not answer within {sender.timeout:g} seconds"
    if isinstance(error, OSError):
        return f"Kulak could not reach the mail server {server}: {error.strerror or error}"
    return f"Sending through {server} failed: {error}"
