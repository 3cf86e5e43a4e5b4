"""Fetch the pinned htmx files from the npm registry at install time and check their sha256.

They live in the instance folder (`<instance>/vendor/`), not in the package, which may be
installed read-only; app/core/serving.py serves them at /static/vendor/<name>, where
url_for('static', filename='vendor/<name>') points (with their hash, like every static file).
"""
import hashlib
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

VENDOR_SUBDIR = "vendor"

# file name -> (npm package spec, path inside its tarball, sha256)
PINNED = {
    "htmx.min.js": ("htmx.org@2.0.11", "package/dist/htmx.min.js",
                    "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"),
    "ws.min.js": ("htmx-ext-ws@2.0.4", "package/dist/ws.min.js",
                  "896afc2936ded7a56373edf16ce75b0fe9bf49c03d1f55aee9baa94cb87c8d3e"),
}
HTMX_VERSION = PINNED["htmx.min.js"][0].split("@")[1]


class AssetError(RuntimeError):
    """The pinned script could not be fetched or did not match its checksum."""


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def instance_vendor_dir(app):
    """Return the folder the app's htmx files are installed in and served from."""
    return Path(app.instance_path) / VENDOR_SUBDIR


def is_installed(name, vendor_dir):
    path = Path(vendor_dir) / name
    return path.is_file() and sha256(path) == PINNED[name][2]


def all_installed(vendor_dir):
    return all(is_installed(name, vendor_dir) for name in PINNED)


def _npm_pack(spec, workdir):
    npm = shutil.which("npm")
    if npm is None:
        raise AssetError("npm is not installed: it is needed once to fetch htmx")
    # A pinned version never changes: npm's cache answers for every instance after the first.
    result = subprocess.run([npm, "pack", spec, "--silent", "--prefer-offline"], cwd=workdir,
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise AssetError(f"npm pack {spec} failed: {result.stderr.strip()[-300:]}")
    return Path(workdir) / result.stdout.strip().splitlines()[-1]


def install(vendor_dir):
    """Install every pinned file that is missing or altered; return the names installed."""
    vendor_dir = Path(vendor_dir)
    vendor_dir.mkdir(parents=True, exist_ok=True)
    installed = []
    with tempfile.TemporaryDirectory() as workdir:
        for name, (spec, member, expected) in PINNED.items():
            if is_installed(name, vendor_dir):
                continue
            with tarfile.open(_npm_pack(spec, workdir)) as tar:
                data = tar.extractfile(member).read()
            actual = hashlib.sha256(data).hexdigest()
            if actual != expected:
                raise AssetError(f"{spec} {member}: sha256 {actual}, expected {expected}")
            tmp = vendor_dir / f".{name}.tmp"
            tmp.write_bytes(data)
            tmp.replace(vendor_dir / name)
            installed.append(name)
    return installed


def init_app(app):
    """Tell templates whether the htmx files are installed; without them every page works."""
    ready = all_installed(instance_vendor_dir(app))
    if not ready:
        app.logger.warning("htmx is not installed: run `kulak assets`; pages work without it")

    @app.context_processor
    def inject_htmx():
        return {"htmx_ready": ready}
