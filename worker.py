"""RQ worker entry point (`python worker.py`, or `kulak worker`): build the app, then work."""
from app import create_app
from app.worker import run


def main():
    run(create_app())


if __name__ == "__main__":
    main()
