"""A realistic 90-day history for the demo brand, written in plain SQL (bench/reports.py).

Conversations spread over the last DAYS days with their messages, ratings, survey answers and
escalations, each row drawing its random numbers once; then VACUUM ANALYZE, as autovacuum
would long since have done to a history this size.
"""
import time

import psycopg

from harness.databases import ADMIN_DSN

DAYS = 90


def generate(schema, conversations, per_conversation, log):
    """Fill the demo brand with a 90-day history in plain SQL; return counts and timings."""
    timings = {}
    with psycopg.connect(ADMIN_DSN, autocommit=True) as pg:
        pg.execute(f'SET search_path = "{schema}"')

        def one(sql, params=()):
            return pg.execute(sql, params).fetchone()[0]

        def timed(name, sql, params=None):
            began = time.monotonic()
            count = pg.execute(sql, params or {}).rowcount
            timings[name] = round(time.monotonic() - began, 2)
            log(f"{name}: {count} rows in {timings[name]} s")
            return count

        brand = one("SELECT id FROM brand WHERE slug = 'demo'")
        ids = {
            "touchpoints": "SELECT array_agg(id ORDER BY id) FROM touchpoint WHERE brand_id = %s",
            "categories": "SELECT array_agg(id ORDER BY id) FROM category WHERE brand_id = %s",
            "staff": "SELECT array_agg(id ORDER BY id) FROM staff_member WHERE brand_id = %s",
            "teams": "SELECT array_agg(id ORDER BY id) FROM team WHERE brand_id = %s",
        }
        ids = {name: one(sql, (brand,)) for name, sql in ids.items()}
        survey = one("SELECT id FROM survey WHERE brand_id = %s AND is_default", (brand,))
        questions = pg.execute("SELECT id, kind FROM question WHERE survey_id = %s ORDER BY "
                               "position", (survey,)).fetchall()
        levels = one("SELECT array_agg(id ORDER BY position, id) FROM escalation_level "
                     "WHERE brand_id = %s", (brand,))
        first_id = one("SELECT coalesce(max(id), 0) FROM conversation")
        params = {"brand": brand, "n": conversations, "m": per_conversation, "days": DAYS,
                  "first": first_id, "survey": survey, "levels": levels, **ids}
        began = time.monotonic()
        # Each row draws its random numbers once in the inner SELECT (volatile: not flattened).
        timed("conversation", """
            INSERT INTO conversation (brand_id, touchpoint_id, token, status, category_id,
                sentiment, urgency, intent, assignee_id, team_id, language, created_at,
                last_message_at, updated_at, waiting_since, first_response_at, resolved_at, resolved_count,
                tag_details, escalated_level)
            SELECT %(brand)s,
                (%(touchpoints)s::int[])[1 + floor(r_tp * cardinality(%(touchpoints)s::int[]))::int],
                md5(random()::text || g), status,
                (%(categories)s::int[])[1 + floor(r_cat * cardinality(%(categories)s::int[]))::int],
                CASE WHEN r_sent < 0.35 THEN 'positive' WHEN r_sent < 0.75 THEN 'neutral'
                     ELSE 'negative' END,
                CASE WHEN r_urg < 0.15 THEN 'urgent' ELSE 'normal' END,
                CASE WHEN r_int < 0.35 THEN 'question' WHEN r_int < 0.65 THEN 'request'
                     WHEN r_int < 0.80 THEN 'complaint' WHEN r_int < 0.92 THEN 'praise'
                     ELSE 'suggestion' END,
                CASE WHEN r_as < 0.05 THEN NULL
                     ELSE (%(staff)s::int[])[1 + floor(r_as * cardinality(%(staff)s::int[]))::int] END,
                CASE WHEN r_as < 0.02 THEN NULL ELSE (%(teams)s::int[])[1] END,
                CASE WHEN r_lang < 0.8 THEN 'en' ELSE 'tr' END,
                created,
                greatest(created, coalesce(resolved, first_response, created)),
                greatest(created, coalesce(resolved, first_response, created)),
                CASE WHEN status = 'open' AND first_response IS NULL THEN created END,
                first_response, resolved, CASE WHEN status = 'resolved' THEN 1 ELSE 0 END,
                '{}'::json,
                CASE WHEN r_esc < 0.01 THEN 2 WHEN r_esc < 0.05 THEN 1 END
            FROM (
                SELECT g, r_tp, r_cat, r_sent, r_urg, r_int, r_as, r_lang, r_esc, created, status,
                    first_response,
                    CASE WHEN status = 'resolved' THEN least(timezone('UTC', now()),
                        coalesce(first_response, created)
                        + (60 + random() * random() * 6 * 3600) * interval '1 second') END
                        AS resolved
                FROM (
                    SELECT g, r_tp, r_cat, r_sent, r_urg, r_int, r_as, r_lang, r_esc, created,
                        CASE WHEN r_st < 0.88 THEN 'resolved' WHEN r_st < 0.95 THEN 'pending'
                             ELSE 'open' END AS status,
                        CASE WHEN r_fr < 0.06 THEN NULL
                             ELSE least(timezone('UTC', now()), created
                                 + (3 + power(random(), 3) * 4 * 3600) * interval '1 second')
                             END AS first_response
                    FROM (
                        SELECT g, random() r_tp, random() r_cat, random() r_sent, random() r_urg,
                            random() r_int, random() r_as, random() r_lang, random() r_esc,
                            random() r_st, random() r_fr,
                            timezone('UTC', now()) - random() * (%(days)s * interval '1 day')
                                AS created
                        FROM generate_series(1, %(n)s) g
                    ) draws
                ) timed_rows
            ) resolved_rows
            ORDER BY created  -- a live brand's rows arrive in time: the table is in that order
        """, params)
        # Messages alternate customer / staff, a minute and a half apart; one in ten of the
        # staff ones is an internal note.
        timed("message", """
            INSERT INTO message (conversation_id, author_kind, staff_id, body, client_id,
                created_at, internal)
            SELECT c.id, CASE WHEN k %% 2 = 1 THEN 'customer' ELSE 'staff' END,
                CASE WHEN k %% 2 = 0 THEN coalesce(c.assignee_id, (%(staff)s::int[])[1]) END,
                CASE WHEN k %% 2 = 1
                     THEN 'Message ' || k || ': the shower in room ' || (c.id %% 500) ||
                          ' is cold again, could someone have a look please?'
                     ELSE 'Thank you for telling us, a colleague is on the way (' || k || ').'
                END,
                CASE WHEN k %% 2 = 1 THEN md5(c.id::text || '-' || k) END,
                least(timezone('UTC', now()), c.created_at + (k - 1) * interval '90 seconds'),
                k %% 2 = 0 AND k %% 20 = 0
            FROM conversation c CROSS JOIN generate_series(1, %(m)s) k
            WHERE c.id > %(first)s
        """, params)
        # ~40% of the resolved answer the rating, CSAT skewed to 4-5; a third of those give NPS.
        timed("rating", """
            INSERT INTO rating (brand_id, conversation_id, round, csat, nps, comment, created_at,
                updated_at)
            SELECT %(brand)s, id, 1,
                CASE WHEN r < 0.05 THEN 1 WHEN r < 0.10 THEN 2 WHEN r < 0.20 THEN 3
                     WHEN r < 0.50 THEN 4 ELSE 5 END,
                CASE WHEN r_nps < 0.33 THEN least(10, greatest(0, round(r * 11 + random() - 0.5)))::int END,
                CASE WHEN r_nps > 0.9 THEN 'Lovely staff, slow towels.' END,
                at, at
            FROM (SELECT id, random() r, random() r_nps,
                         resolved_at + random() * interval '2 hours' AS at
                  FROM conversation WHERE id > %(first)s AND status = 'resolved') resolved
            WHERE random() < 0.40
        """, params)
        # What app.widget.satisfaction keeps on the conversation: its latest answer.
        timed("conversation_rating", """
            UPDATE conversation c SET csat = r.csat, nps = r.nps
            FROM rating r WHERE r.conversation_id = c.id AND c.id > %(first)s
        """, params)
        # Survey answers: a fifth of the conversations, plus loose ones (no conversation).
        timed("survey_response", """
            INSERT INTO survey_response (survey_id, brand_id, touchpoint_id, conversation_id,
                language, created_at)
            SELECT %(survey)s, %(brand)s, touchpoint_id, id, language,
                   created_at - interval '5 minutes'
            FROM conversation WHERE id > %(first)s AND random() < 0.20
            UNION ALL
            SELECT %(survey)s, %(brand)s,
                (%(touchpoints)s::int[])[1 + (g %% cardinality(%(touchpoints)s::int[]))], NULL,
                'en', timezone('UTC', now()) - random() * (%(days)s * interval '1 day')
            FROM generate_series(1, greatest(1, %(n)s / 20)) g
        """, params)
        answers = 0
        for question_id, kind in questions:
            value = {"rating": "1 + floor(power(random(), 0.5) * 5)::int",
                     "yes_no": "CASE WHEN random() < 0.85 THEN 1 ELSE 0 END"}.get(kind)
            if value is None:
                continue
            answers += timed(f"answer_{kind}", f"""
                INSERT INTO answer (response_id, question_id, number)
                SELECT id, %(question)s, {value} FROM survey_response WHERE survey_id = %(survey)s
            """, {**params, "question": question_id})
        timed("escalation", """
            INSERT INTO escalation (conversation_id, level_id, due_at, scheduled_at, fired_at)
            SELECT c.id, (%(levels)s::int[])[l], c.created_at + l * interval '5 minutes',
                   c.created_at, c.created_at + l * interval '5 minutes' + interval '1 second'
            FROM conversation c CROSS JOIN generate_series(1, 2) l
            WHERE c.id > %(first)s AND c.escalated_level >= l
              AND l <= cardinality(%(levels)s::int[])
        """, params)
        timings["insert_total"] = round(time.monotonic() - began, 2)
        analyzed = time.monotonic()
        # VACUUM as well: a history this size has been vacuumed by autovacuum long since (it
        # runs after inserts too), which sets the visibility map that index-only scans need.
        for table in ("conversation", "message", "rating", "survey_response", "answer",
                      "escalation"):
            pg.execute(f"VACUUM (ANALYZE) {table}")
        timings["analyze"] = round(time.monotonic() - analyzed, 2)
        timings["total"] = round(time.monotonic() - began, 2)
        counts = {table: one(f"SELECT count(*) FROM {table}") for table in (
            "conversation", "message", "rating", "survey_response", "answer", "escalation")}
        counts["conversations_last_30_days"] = one(
            "SELECT count(*) FROM conversation WHERE created_at >= timezone('UTC', now()) "
            "- interval '30 days'")
        counts["resolved"] = one("SELECT count(*) FROM conversation WHERE status = 'resolved'")
        sizes = {table: one("SELECT pg_size_pretty(pg_total_relation_size(%s::regclass))",
                            (f'"{schema}".{table}',)) for table in ("conversation", "message")}
    return {"seconds": timings, "counts": counts, "table_sizes": sizes, "brand_id": brand}
