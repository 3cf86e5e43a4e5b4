"""With Redis, a real `kulak worker` delivers the mail from the default queue."""
import pytest
import redis

from app.mail import send_mail

from ..inbox.conftest import start_worker, stop_worker
from ..receivers import wait_for
from .conftest import mail_row, mail_url

# A Redis database of the mail tests' own: a worker on another's would take their jobs.
REDIS_URL = "redis://127.0.0.1:6379/14"


@pytest.fixture
def empty_redis():
    """The test Redis database, emptied before and after: job ids name this test's rows."""
    connection = redis.Redis.from_url(REDIS_URL)
    connection.flushdb()
    yield connection
    connection.flushdb()


@pytest.mark.postgresql_only
def test_a_real_worker_sends_the_mail_queued_on_redis(app, demo, inbox, monkeypatch, tmp_path,
                                                       empty_redis):
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    monkeypatch.setitem(app.config, "MAIL_URL", mail_url(inbox))
    worker = start_worker(app, tmp_path, redis_url=REDIS_URL, KULAK_MAIL_URL=mail_url(inbox))
    try:
        mail = send_mail("ayse@demo.example", "From the worker", "Sent by RQ.", brand_id=demo.id,
                         purpose="test")
        assert wait_for(lambda: inbox.messages, seconds=30), \
            (tmp_path / "worker.log").read_text()[-2000:]
        assert wait_for(lambda: mail_row(mail.id).status == "sent", seconds=10)
    finally:
        stop_worker(worker)
    assert [m["to"] for m in inbox.messages] == [["ayse@demo.example"]]
    assert mail_row(mail.id).attempts == 1
