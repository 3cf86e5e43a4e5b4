"""Every customer message is classified as it arrives; the conversation's tags follow."""
from sqlalchemy import select

from models import Conversation, TagCorrection, db

from .staff import customer_journey, soup, tag


def by_token(token):
    db.session.expire_all()
    return db.session.scalar(select(Conversation).filter_by(token=token))


def write(client, token, body):
    answer = client.post(f"/c/{token}", data={"body": body, "lang": "en"})
    assert answer.status_code == 303, answer.text


def tags(convo):
    return (convo.category.slug if convo.category else None, convo.sentiment, convo.urgency,
            convo.intent)


def test_the_first_message_is_tagged_and_the_list_shows_it_before_opening(client, agent):
    token = customer_journey(client, "No hot water in the shower and I have to leave soon!")
    convo = by_token(token)
    assert tags(convo) == ("facilities", "negative", "urgent", "complaint")
    details = convo.tag_details
    assert details["urgency"]["confidence"] > 0.5 and details["urgency"]["why"]
    row = soup(agent.get("/inbox/", query_string={"view": "all"})).find(
        "a", href=f"/inbox/c/{convo.id}").find_parent("li")
    assert [b.get_text() for b in row.select(".badge")] == [
        "Urgent", "Negative", "Room and facilities", "Complaint"]
    why = soup(agent.get(f"/inbox/c/{convo.id}")).select_one("details.why").get_text(" ")
    assert "Urgency: Urgent" in why and "% sure, because of" in why


def test_urgency_stays_raised_while_sentiment_follows_the_newest_message(client, demo):
    token = customer_journey(client, "There is smoke in the corridor, come now")
    assert by_token(token).urgency == "urgent"
    write(client, token, "Thank you so much, the staff were wonderful")
    convo = by_token(token)
    assert convo.urgency == "urgent"
    assert convo.sentiment == "positive"


def test_a_tag_staff_set_stays_theirs_but_urgency_can_still_rise(client, agent):
    token = customer_journey(client, "Could I get two extra towels please?")
    convo = by_token(token)
    assert tags(convo)[2] == "normal"
    assert agent.act(convo.id, tag("category"), value="food_drink").status_code == 303
    assert agent.act(convo.id, tag("sentiment"), value="positive").status_code == 303
    write(client, token, "The air conditioning is broken and the room is freezing, awful")
    convo = by_token(token)
    assert convo.category.slug == "food_drink" and convo.sentiment == "positive"
    assert convo.tag_details["category"] == {"label": "food_drink", "by": "staff"}
    assert convo.urgency == "urgent"  # raised by the new message: staff never lowered it
    assert agent.act(convo.id, tag("urgency"), value="normal").status_code == 303
    write(client, token, "ok")
    assert by_token(token).urgency == "normal"
    corrections = db.session.scalars(select(TagCorrection).filter_by(
        conversation_id=convo.id).order_by(TagCorrection.id)).all()
    assert [(c.field, c.new_value) for c in corrections] == [
        ("category", "food_drink"), ("sentiment", "positive"), ("urgency", "normal")]


def test_a_message_the_model_cannot_read_leaves_the_tags_as_they_were(client, demo):
    token = customer_journey(client, "The waiter was rude and the food came cold")
    before = tags(by_token(token))
    for body in ("12345", "👍👍👍", "......"):
        write(client, token, body)
    assert tags(by_token(token)) == before


def test_the_category_the_customer_picked_is_a_prior_not_an_override(client, demo):
    picked = customer_journey(client, "Is breakfast included?", category="billing_payment")
    assert by_token(picked).picked_category == "billing_payment"
    overruled = customer_journey(client, "The AC is broken and it is so hot",
                                 category="billing_payment")
    assert by_token(overruled).category.slug == "facilities"
    assert by_token(overruled).picked_category == "billing_payment"

