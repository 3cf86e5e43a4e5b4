"""Give each benchmark run a fresh PostgreSQL schema of its own, and read its conversations."""

import uuid
from contextlib import contextmanager

import psycopg

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"
APP_DSN = "postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"


@contextmanager
def fresh_schema(log, keep=False):
    """Create a schema bench_<random> and yield (name, app DSN, server version); drop it after,
    unless `keep` (to inspect it: its name and the command that drops it are logged)."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        version = admin.execute("SHOW server_version").fetchone()[0]
    log(f"schema {schema}")
    if keep:
        yield schema, APP_DSN.format(schema=schema), version
        log(f'schema {schema} kept: drop it with DROP SCHEMA "{schema}" CASCADE')
        return
    try:
        yield schema, APP_DSN.format(schema=schema), version
    finally:
        try:
            with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
                admin.execute("SET lock_timeout = '10s'")
                admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
            log(f"schema {schema} dropped")
        except psycopg.Error as error:
            log(f"could not drop schema {schema}: {error}")


def conversation_ids(schema, tokens):
    """Return {token: conversation id} for the given tokens."""
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        rows = admin.execute(
            f'SELECT token, id FROM "{schema}".conversation WHERE token = ANY(%s)', (tokens,)
        ).fetchall()
    return dict(rows)
