"""Staff corrections retrain the brand's model (an RQ job), swapped in only if it is not worse."""
import uuid

import pytest
import redis
from rq import Queue, SimpleWorker
from sqlalchemy import select

from app.tagging import retrain
from app.tagging import service as tagging
from models import Brand, TaggerVersion, db

from .staff import conversation, soup, tag

REDIS_URL = "redis://127.0.0.1:6379/12"


@pytest.fixture
def corrected(demo, agent):
    """Three conversations whose tags the agent corrected."""
    for text, category in (("The minibar charged me twice", "billing_payment"),
                           ("The lift smells of smoke", "facilities"),
                           ("Why is the breakfast bill so high", "billing_payment")):
        convo = conversation(demo, text)
        assert agent.act(convo.id, tag("category"), value=category).status_code == 303
        assert agent.act(convo.id, tag("sentiment"), value="negative").status_code == 303


@pytest.fixture
def rq_queue(app, monkeypatch):
    """Point the app at a real Redis; yield the empty "slow" queue there."""
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    connection = redis.Redis.from_url(REDIS_URL)
    queue = Queue("slow", connection=connection)
    queue.empty()
    yield queue
    queue.empty()


def current_version(brand_id):
    db.session.expire_all()
    brand = db.session.get(Brand, brand_id)
    return db.session.get(TaggerVersion, brand.tagger_version_id) if brand.tagger_version_id \
        else None


@pytest.mark.postgresql_only
def test_a_lead_retrains_through_an_rq_worker_and_the_page_shows_the_result(
        demo, corrected, lead, rq_queue):
    page = lead.get("/admin/model")
    assert "The shipped model" in page.text and "Corrections stored: 6." in page.text
    started = lead.submit(page, 'form[action="/admin/model/retrain"]')
    assert started.status_code == 303 and "queued=1" in started.headers["Location"]
    assert rq_queue.count == 1
    SimpleWorker([rq_queue], connection=rq_queue.connection).work(burst=True)
    versions = db.session.scalars(select(TaggerVersion)).all()
    assert [(v.version, v.corrections) for v in versions] == [(1, 3)]
    version = versions[0]
    report = version.report
    assert report["corrections_trained_on"] + report["corrections_held_out"] == 3
    swapped = report["better_or_equal"]
    assert version.outcome == ("current" if swapped else "not_better")
    assert (current_version(demo.id) == version) == swapped
    shown = soup(lead.get("/admin/model"))
    assert shown.select_one("#version-1") is not None
    assert ("Version 1, retrained for this brand" in shown.get_text()) == swapped


def test_without_redis_the_job_runs_in_the_web_process(app, demo, corrected, lead):
    assert app.config["REDIS_URL"] is None
    job = retrain.start_retraining(demo)
    job.join(timeout=120)
    assert not job.is_alive()
    db.session.expire_all()
    assert db.session.scalar(select(TaggerVersion.version)) == 1


def test_a_better_model_is_swapped_in_and_tags_the_next_message(app, demo, corrected,
                                                                 monkeypatch):
    from classifier import retraining
    real_retrain = retraining.retrain

    def always_better(rows, current):
        model, report = real_retrain(rows, current)
        model.metadata["marker"] = marker
        return model, {**report, "better_or_equal": True}

    marker = uuid.uuid4().hex
    monkeypatch.setattr(retraining, "retrain", always_better)
    first = retrain.retrain_brand(demo.id)
    assert current_version(demo.id).id == first
    brand = db.session.get(Brand, demo.id)
    assert tagging.model_for(brand).metadata["marker"] == marker
    second = retrain.retrain_brand(demo.id)
    assert current_version(demo.id).id == second
    assert db.session.get(TaggerVersion, first).outcome == "replaced"


def test_a_worse_model_is_kept_out_and_the_brand_keeps_its_model(app, demo, corrected,
                                                                 monkeypatch):
    from classifier import retraining
    real_retrain = retraining.retrain
    monkeypatch.setattr(retraining, "retrain", lambda rows, current: (
        lambda result: (result[0], {**result[1], "better_or_equal": False}))(
            real_retrain(rows, current)))
    version_id = retrain.retrain_brand(demo.id)
    stored = db.session.get(TaggerVersion, version_id)
    assert stored.outcome == "not_better" and stored.model is None
    assert current_version(demo.id) is None
    assert tagging.model_for(db.session.get(Brand, demo.id)) is tagging.shipped_model()


def test_agents_neither_see_nor_retrain_the_model(demo, agent, rq_queue):
    assert agent.get("/admin/model").status_code == 403
    assert "/admin/model" not in agent.get("/inbox/").text
    assert agent.client.post("/admin/model/retrain",
                             data={"csrf_token": agent.token}).status_code == 403
    assert rq_queue.count == 0


def test_a_retraining_needs_a_valid_form(demo, lead, rq_queue):
    assert "/admin/model" in lead.get("/inbox/").text
    assert lead.client.post("/admin/model/retrain", data={}).status_code == 400
    assert lead.client.post("/admin/model/retrain",
                            data={"csrf_token": "forged"}).status_code == 400
    assert rq_queue.count == 0


def test_every_tenth_correction_queues_a_retraining(demo, agent, rq_queue):
    convo = conversation(demo, "The lift smells of smoke")
    values = ["negative", "neutral", "positive"]
    for count in range(1, 11):
        value = values[count % 3]
        assert agent.act(convo.id, tag("sentiment"), value=value).status_code == 303
        assert rq_queue.count == (1 if count == 10 else 0)
