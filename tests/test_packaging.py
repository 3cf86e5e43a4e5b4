"""Kulak as a wheel: built from this checkout, installed into a fresh virtualenv, run from there.

The wheel must carry everything the app reads (migrations, templates, static files,
translations, the classifier's seed data), and what the app writes (htmx, the built model, the
database) must go to the instance folder, never into site-packages.
"""
import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from app.core.assets import PINNED

from .conftest import free_port

pytestmark = pytest.mark.server

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("app", "models", "classifier", "widget_templates")
DEMO_PASSWORD = "demo-password-for-packaging"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """Build the wheel of this checkout once for the module; return its path."""
    out = tmp_path_factory.mktemp("wheel")
    # setuptools' build/ and kulak.egg-info/ go here, not into the shared checkout, so a stale
    # build/lib of an earlier layout can never slip into the wheel.
    dirs = out / "setuptools-dirs.cfg"
    dirs.write_text(f"[build]\nbuild_base = {out / 'build'}\n[egg_info]\negg_base = {out}\n")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(out / "dist"),
                    str(REPO_ROOT)], env={**os.environ, "DIST_EXTRA_CONFIG": str(dirs)},
                   cwd=out, check=True, capture_output=True, timeout=300)
    [built] = (out / "dist").glob("kulak-*.whl")
    return built


def run(command, env, cwd, timeout=120):
    result = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, (
        f"{command} exited {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory):
    """Return (the venv's bin/, its site-packages, a clean environment, a cwd outside the
    checkout) with the wheel installed.

    The venv reuses this machine's installed dependencies (--system-site-packages), and so also
    sees a `pip install -e .` of the checkout there: the venv's own site-packages comes first
    on sys.path, and no PYTHONPATH or cwd inside the checkout puts it back in front.
    """
    root = tmp_path_factory.mktemp("venv")
    home = tmp_path_factory.mktemp("outside")
    # Without a pip of its own: the machine's pip, run by the venv's python, installs into it.
    run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(root)],
        os.environ, home, timeout=60)
    bin_dir = root / "bin"
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSAFEPATH", "DATABASE_URL",
                        "REDIS_URL", "SECRET_KEY") and not k.startswith("KULAK_")}
    env.update(VIRTUAL_ENV=str(root), PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}")
    # --force-reinstall: an installed kulak of the same version (an editable one outside the
    # venv) would otherwise count as "already satisfied"; pip leaves that one alone.
    run([str(bin_dir / "python"), "-m", "pip", "install", "--no-deps", "--no-index",
         "--force-reinstall", str(wheel)], env, home, timeout=120)
    purelib = Path(run([str(bin_dir / "python"), "-c",
                        "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                       env, home).strip())
    assert purelib.is_relative_to(root)
    return bin_dir, purelib, env, home


def package_files(purelib):
    """Return the installed package files, compiled bytecode aside."""
    return {path.relative_to(purelib) for name in PACKAGES for path in (purelib / name).rglob("*")
            if path.is_file() and "__pycache__" not in path.parts}


def test_the_wheel_carries_what_the_app_reads(venv):
    bin_dir, purelib, env, home = venv
    found = run([str(bin_dir / "python"), "-c",
                 "import app, classifier, models, widget_templates\n"
                 "from app import MIGRATIONS_DIR\n"
                 "from app.widget import TEMPLATES\n"
                 "from classifier.data import SEED_DIR\n"
                 "print(app.__file__, classifier.__file__, models.__file__, MIGRATIONS_DIR,"
                 " TEMPLATES, SEED_DIR, sep='\\n')"], env, home).split("\n")[:6]
    for path in found:
        assert Path(path).is_relative_to(purelib), f"{path} is not the wheel's"
    files = package_files(purelib)
    for expected in ("app/migrations/env.py", "app/migrations/alembic.ini",
                     "app/migrations/script.py.mako", "app/static/kulak.css",
                     "app/templates/_htmx_head.html",
                     "app/translations/tr/LC_MESSAGES/messages.mo",
                     "app/translations/tr/LC_MESSAGES/messages.po",
                     "widget_templates/widget/survey.html", "classifier/seed/unseen.csv"):
        assert Path(expected) in files, expected
    versions = {p.name for p in (REPO_ROOT / "app" / "migrations" / "versions").glob("*.py")}
    assert versions and versions <= {p.name for p in files if p.parent.name == "versions"}
    assert not any(p.suffix in (".js", ".joblib") for p in files)


def test_installed_kulak_runs_the_demo_and_serves_it(venv, tmp_path):
    bin_dir, purelib, env, home = venv
    kulak = str(bin_dir / "kulak")
    instance = tmp_path / "instance"
    port = free_port()
    env = {**env, "KULAK_INSTANCE": str(instance), "KULAK_DEMO_PASSWORD": DEMO_PASSWORD,
           "KULAK_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    before = package_files(purelib)

    # Migrates the new SQLite database (as `kulak db upgrade` would), fetches htmx (from npm's
    # cache after the first time) and builds the classifier's model from the seed data.
    output = run([kulak, "demo"], env, home, timeout=240)
    assert "Demo brand ready" in output
    assert all((instance / "vendor" / name).is_file() for name in PINNED)
    assert list((instance / "models").glob("model-v*.joblib"))
    assert (instance / "kulak.db").is_file()
    output = run([kulak, "brand", "create", "hotel", "--name", "Hotel", "--admin",
                  "owner@example.com"], env, home)
    assert "Brand hotel (Hotel) created" in output

    log = open(tmp_path / "server.log", "wb")
    server = subprocess.Popen([kulak, "serve", "--port", str(port)], env=env, cwd=home,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (tmp_path / "server.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "kulak serve did not answer /healthz in 60 s"
            try:
                if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)

        page = requests.get(f"{base}/b/demo/room-412", timeout=10)
        assert page.status_code == 200
        assert '<form method="post" class="survey">' in page.text
        # Static URLs carry their file's hash (app/core/serving.py).
        styles = re.findall(r'<link rel="stylesheet" href="([^"]+\.css\?v=[0-9a-f]{12})"',
                            page.text)
        assert styles
        for href in styles:
            css = requests.get(base + href, timeout=10)
            assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
        assert requests.get(f"{base}/b/hotel/web", timeout=10).status_code == 200
        scripts = re.findall(r'<script src="(/static/vendor/[^"]+)"', page.text)
        assert scripts, "htmx is installed, the page must link it"
        for src in scripts:
            script = requests.get(base + src, timeout=10)
            assert script.status_code == 200
            name = src.rsplit("/", 1)[1].split("?v=")[0]
            assert hashlib.sha256(script.content).hexdigest() == PINNED[name][2]
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(10)
        log.close()

    # Everything the run wrote went to the instance folder, none into site-packages.
    assert package_files(purelib) == before
    assert not (purelib / "instance").exists()
