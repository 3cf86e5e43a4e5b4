"""What people do over HTTP: a customer opens a conversation and posts, staff sign in and reply."""
import re

import requests

SURVEY_PATH = "/b/demo/room-412"
HELP_PATH = SURVEY_PATH + "/help"


def csrf_token(html):
    """Return the CSRF token of the first form in a page."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    if not match:
        raise RuntimeError(f"no csrf_token in the page: {html[:300]}")
    return match.group(1)


def customer_post(url, path, body, session=None, timeout=30, **fields):
    """Post a customer form as a browser without script does; return the redirect target."""
    answer = (session or requests).post(url + path, data={"body": body, "lang": "en", **fields},
                                        allow_redirects=False, timeout=timeout)
    if answer.status_code != 303:
        raise RuntimeError(f"POST {path} gave {answer.status_code}: {answer.text[:300]}")
    return answer.headers["Location"]


def open_conversation(url, body, session=None, timeout=30, **fields):
    """Open a conversation at the demo's room 412 (the survey is optional); return its token."""
    location = customer_post(url, HELP_PATH, body, session, timeout, **fields)
    match = re.search(r"/c/([^/?#]+)", location)
    if not match:
        raise RuntimeError(f"POST {HELP_PATH} went to {location!r}")
    return match.group(1)


def sign_in(url, email, password, session=None, timeout=30):
    """Sign a member of staff in through the real login form; return the session."""
    session = session or requests.Session()
    page = session.get(f"{url}/inbox/login", timeout=timeout)
    answer = session.post(f"{url}/inbox/login", allow_redirects=False, timeout=timeout, data={
        "csrf_token": csrf_token(page.text), "email": email, "password": password})
    if answer.status_code != 303 or "/inbox/login" in answer.headers.get("Location", ""):
        raise RuntimeError(f"signing {email} in gave {answer.status_code}: {answer.text[:300]}")
    return session


def cookie_header(session):
    """Return the Cookie header a signed-in session's WebSockets send."""
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in session.cookies)


def staff_reply(session, url, conversation_id, body, token=None, timeout=30, **fields):
    """Reply as a browser without script does; return the answer (303)."""
    # `token`: a CSRF token of this session; read from the conversation page when not given.
    page = f"{url}/inbox/c/{conversation_id}"
    if token is None:
        token = csrf_token(session.get(page, timeout=timeout).text)
    answer = session.post(page + "/reply", allow_redirects=False, timeout=timeout,
                          data={"csrf_token": token, "body": body, **fields})
    if answer.status_code != 303:
        raise RuntimeError(f"reply gave {answer.status_code}: {answer.text[:300]}")
    return answer
