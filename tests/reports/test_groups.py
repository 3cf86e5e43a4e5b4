"""The three customer groups' rules (app/reports/groups.py), on both databases."""
import pytest

from app.reports import figures, groups
from app.reports.period import Filters

from .conftest import MONDAY, add, member, rate

# (columns, ratings [(csat, nps)] oldest first, the groups it belongs to)
CASES = [
    ({"sentiment": "positive"}, [], {"satisfied"}),
    ({"sentiment": "positive", "intent": "complaint"}, [], set()),
    ({"sentiment": "neutral"}, [(5, None)], {"satisfied"}),
    ({"sentiment": "neutral"}, [(None, 9)], {"satisfied"}),
    ({"sentiment": "negative"}, [], {"at_risk"}),
    ({"sentiment": "negative"}, [(1, None), (5, None)], {"satisfied"}),  # later satisfied
    ({"sentiment": "positive"}, [(5, None), (2, None)], {"at_risk"}),  # later unhappy
    ({"sentiment": "neutral"}, [(None, 6)], {"at_risk"}),
    ({"sentiment": "neutral"}, [(5, 3)], {"at_risk"}),  # a detractor despite the CSAT
    ({"sentiment": "neutral", "escalated_level": 1}, [], {"at_risk"}),
    ({"sentiment": "positive", "escalated_level": 2}, [], {"satisfied"}),
    ({"sentiment": "neutral"}, [(3, 7)], set()),
    ({"sentiment": "negative", "intent": "suggestion"}, [], {"at_risk", "suggestions"}),
    ({"intent": "suggestion"}, [], {"suggestions"}),
    ({}, [], set()),
]


@pytest.fixture
def cases(demo):
    made = []
    for columns, ratings, expected in CASES:
        convo = add(demo, MONDAY, **columns)
        for number, (csat, nps) in enumerate(ratings, 1):
            rate(convo, csat=csat, nps=nps, round_=number)
        made.append((convo.id, expected))
    return made


def test_each_conversation_is_in_the_groups_its_facts_say(app, demo, cases):
    scope = figures.seen_by(member("manager@demo.example"), Filters())
    found = {group: {row[0] for row in groups.members(group, scope)}
             for group in groups.GROUPS}
    for convo_id, expected in cases:
        assert {group for group in groups.GROUPS if convo_id in found[group]} == expected, \
            CASES[[c for c, _e in cases].index(convo_id)]
    counts = groups.counts(scope)
    assert counts == {group: sum(group in e for _c, e in cases) for group in groups.GROUPS}


def test_the_page_states_every_groups_rule():
    assert set(groups.RULES) == set(groups.TITLES) == set(groups.GROUPS)
