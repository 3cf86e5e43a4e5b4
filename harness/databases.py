"""Databases of a run of its own: fresh PostgreSQL schemas, SQLite files, Redis databases and
Redis servers, all removed or emptied afterwards."""
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg
import redis
import sqlalchemy as sa

from harness.servers import ProcessGroup, free_port

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"
APP_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"


def schema_url(schema):
    """Return the SQLAlchemy URL (DATABASE_URL) whose search path is `schema`."""
    return APP_URL.format(schema=schema)


def sqlite_url(folder):
    """Return the URL of the SQLite database kulak.db in `folder`."""
    return f"sqlite:///{Path(folder) / 'kulak.db'}"


def create_schema(prefix):
    """Create a schema <prefix>_<random> in database `test`; return its name."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{name}"')
    return name


def drop_schema(name):
    """Drop a schema and everything in it."""
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute("SET lock_timeout = '10s'")  # a stuck session fails the drop, not the run
        admin.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


class Schemas:
    """A factory of fresh schemas: calling it returns a new one's URL; drop_all() drops them."""

    def __init__(self, prefix="kulak_test"):
        self.prefix, self.created = prefix, []

    def __call__(self):
        self.created.append(create_schema(self.prefix))
        return schema_url(self.created[-1])

    def drop_all(self):
        for name in self.created:
            drop_schema(name)
        self.created = []


def database_url(backend, folder, schemas):
    """Return a fresh database's URL: SQLite in `folder`, or a schema made by `schemas()`."""
    return sqlite_url(folder) if backend == "sqlite" else schemas()


@contextmanager
def fresh_schema(log=None, keep=False, prefix="bench"):
    """Yield (name, URL, server version) of a fresh schema; drop it after, unless `keep`."""
    # A kept schema's name and the statement that drops it are logged, to inspect it in psql.
    log = log or (lambda *parts: None)
    schema = create_schema(prefix)
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        version = admin.execute("SHOW server_version").fetchone()[0]
    log(f"schema {schema}")
    try:
        yield schema, schema_url(schema), version
    finally:
        if keep:
            log(f'schema {schema} kept: drop it with DROP SCHEMA "{schema}" CASCADE')
        else:
            try:
                drop_schema(schema)
                log(f"schema {schema} dropped")
            except psycopg.Error as error:
                log(f"could not drop schema {schema}: {error}")


def conversation_ids(url, tokens):
    """Return {token: conversation id} for the given tokens, read from the database at `url`."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    query = sa.text("SELECT token, id FROM conversation WHERE token IN :tokens").bindparams(
        sa.bindparam("tokens", expanding=True))
    try:
        with engine.connect() as connection:
            return dict(connection.execute(query, {"tokens": list(tokens)}).all())
    finally:
        engine.dispose()


@contextmanager
def scratch_redis_db(url=None):
    """Yield `url`, or else an unused database's URL of the local Redis, emptied at the end."""
    # The server queues jobs that no worker may run; left behind, they would fill one more
    # database with every run until none is free.
    if url:
        yield url
        return
    url = unused_redis_db()
    try:
        yield url
    finally:
        client = redis.Redis.from_url(url, socket_timeout=5)
        client.flushdb()
        client.close()


def unused_redis_db(host="127.0.0.1", port=6379):
    """Return the REDIS_URL of the highest-numbered Redis database that holds no keys."""
    client = redis.Redis(host=host, port=port, socket_timeout=5)
    used = {int(name[2:]) for name in client.info("keyspace")}
    databases = int(client.config_get("databases").get("databases", 16))
    client.close()
    free = [n for n in range(databases - 1, 0, -1) if n not in used]
    if not free:
        raise RuntimeError("every Redis database holds keys; none is free")
    return f"redis://{host}:{port}/{free[0]}"


class RedisServer(ProcessGroup):
    """A redis-server of one's own on a free port (no persistence), to stop and start at will."""

    # Pub/sub channels ignore database numbers: on a shared Redis, other servers' events mix in.

    name = "redis-server"

    def __init__(self, folder=None):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        folder = Path(folder or tempfile.gettempdir())
        super().__init__(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                          "--save", "", "--appendonly", "no", "--dir", str(folder)],
                         None, folder / f"redis-{self.port}.log")

    def start(self, timeout=10):
        return self.launch(self.answers, timeout)

    def answers(self):
        try:
            return redis.Redis.from_url(self.url, socket_connect_timeout=0.2).ping()
        except redis.RedisError:
            return False
