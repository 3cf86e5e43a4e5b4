"""Where a report page's time goes: rendered in this process with every SQL statement timed,
the slowest EXPLAIN ANALYZEd, and the CSV export profiled (bench/reports.py)."""
import io
import os
import re
import sys
import time

from harness.clients import csrf_token

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
MANAGER = "manager@demo.example"
REPORT_PATH = "/reports/?period=30d"


def profile_report(env, password, explain_top, csv_path):
    """Render the report in this process with each SQL statement timed; EXPLAIN the slowest."""
    # bench/classifier.py would shadow the app's classifier package.
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != BENCH_DIR]
    import cProfile
    import pstats

    from sqlalchemy import event

    from app import create_app
    from models import db

    app = create_app(environ=env)
    statements = []
    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "before_cursor_execute")
        def before(conn, cursor, statement, parameters, context, executemany):
            conn.info.setdefault("began", []).append(time.perf_counter())

        @event.listens_for(engine, "after_cursor_execute")
        def after(conn, cursor, statement, parameters, context, executemany):
            began = conn.info["began"].pop()
            statements.append((time.perf_counter() - began, statement, parameters))

        client = app.test_client()
        page = client.get("/inbox/login")
        token = csrf_token(page.get_data(as_text=True))
        answer = client.post("/inbox/login", data={"csrf_token": token, "email": MANAGER,
                                                    "password": password})
        if answer.status_code != 303:
            raise RuntimeError(f"in-process login gave {answer.status_code}")
        statements.clear()
        began = time.perf_counter()
        response = client.get(REPORT_PATH)
        total = time.perf_counter() - began
        if response.status_code != 200:
            raise RuntimeError(f"in-process report gave {response.status_code}")
        found = list(statements)
        # The export, consumed whole, under cProfile: where its Python time goes.
        statements.clear()
        profiler = cProfile.Profile()
        began = time.perf_counter()
        profiler.enable()
        response = client.get(csv_path)
        size = sum(len(chunk) for chunk in response.response)
        profiler.disable()
        csv_total = time.perf_counter() - began
        response.close()
        csv_statements = list(statements)
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
        csv_profile = {
            "what": "GET " + csv_path + " through the test client, consumed whole, under "
                    "cProfile (which slows Python down, so compare shares, not seconds)",
            "request_ms": round(csv_total * 1000, 1), "bytes": size,
            "statements": len(csv_statements),
            "sql_execute_ms": round(sum(x[0] for x in csv_statements) * 1000, 1),
            "top_cumulative": [line for line in out.getvalue().splitlines()
                               if line.strip()][:45],
        }
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
        sql_total = sum(seconds for seconds, _, _ in found)
        slowest = sorted(found, key=lambda item: -item[0])[:explain_top]
        explained = []
        with engine.connect() as conn:
            for seconds, statement, parameters in slowest:
                plan = [row[0] for row in conn.exec_driver_sql(
                    "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters or {})]
                explained.append({
                    "ms": round(seconds * 1000, 1),
                    "sql": re.sub(r"\s+", " ", statement)[:1500],
                    "parameters": {k: str(v) for k, v in (parameters or {}).items()},
                    "plan": plan[:40],
                })
            # The export's own query, planned as the server-side cursor it runs in (a cursor
            # is planned for its first rows, cursor_tuple_fraction), then run as a SELECT.
            main = [x for x in csv_statements if "ORDER BY conversation.created_at" in x[1]]
            if main:
                _, statement, parameters = main[0]
                csv_profile["query"] = re.sub(r"\s+", " ", statement)[:1500]
                csv_profile["cursor_plan"] = [row[0] for row in conn.exec_driver_sql(
                    "EXPLAIN DECLARE bench_export NO SCROLL CURSOR WITHOUT HOLD FOR "
                    + statement, parameters or {})][:40]
                began = time.perf_counter()
                conn.exec_driver_sql("DECLARE bench_export NO SCROLL CURSOR WITHOUT HOLD FOR "
                                     + statement, parameters or {})
                fetched = 0
                while batch := conn.exec_driver_sql("FETCH 2000 FROM bench_export").fetchall():
                    fetched += len(batch)
                csv_profile["cursor_fetch_all_ms"] = round((time.perf_counter() - began) * 1000)
                csv_profile["cursor_rows"] = fetched
                conn.exec_driver_sql("CLOSE bench_export")
                csv_profile["select_plan_analyzed"] = [row[0] for row in conn.exec_driver_sql(
                    "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters or {})][:40]
            conn.rollback()
    return {
        "what": "GET " + REPORT_PATH + " through Flask's test client in the benchmark process, "
                "every SQL statement timed (cursor execute to its return, fetch excluded)",
        "request_ms": round(total * 1000, 1),
        "statements": len(found),
        "sql_ms": round(sql_total * 1000, 1),
        "outside_sql_ms": round((total - sql_total) * 1000, 1),
        "slowest": explained,
        "csv_export": csv_profile,
    }
