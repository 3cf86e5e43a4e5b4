"""RQ worker entry point: build the app, then work the queues with the scheduler."""
from redis import Redis
from rq import Worker

from app import create_app
from app.jobs import QUEUES


def main():
    app = create_app()
    url = app.config["REDIS_URL"]
    if not url:
        raise SystemExit("REDIS_URL is not set: without Redis, `kulak serve` runs jobs itself.")
    with app.app_context():
        Worker(QUEUES, connection=Redis.from_url(url)).work(with_scheduler=True)


if __name__ == "__main__":
    main()
