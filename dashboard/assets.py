"""The map's JavaScript and CSS, served from this machine instead of CDNs.

folium's Map asks for Leaflet, jQuery, Bootstrap, Font Awesome and
awesome-markers from CDNs. streamlit-folium's component does not bundle
Leaflet: it loads the map's ``default_js``/``default_css`` URLs into its
iframe, one script after the other, and stops (no map at all) if one fails.
So a map without internet needs every URL to be local.

The dashboard draws CircleMarkers with popups, which need only Leaflet (JS,
CSS, control images) and jQuery (folium's Popup template builds its content
with ``$(...)``; without it the first popup throws ``$ is not defined`` and
every later marker is lost). Those files are copied from the installed
``xstatic-leaflet`` and ``xstatic-jquery`` packages into ``dashboard/static/``,
which Streamlit serves at ``<baseUrlPath>/app/static/`` when
``server.enableStaticServing`` is on. The copies are generated (``python -m
dashboard.assets`` or the app's first run), never committed.

The density modes (see :mod:`dashboard.density`) need two more scripts:

- Leaflet.heat, which folium ships in its wheel (``folium/templates/
  leaflet_heat.min.js``; folium's own HeatMap would load it from jsdelivr);
- supercluster (the clusters), which no installed package ships. ``make setup``
  (``python -m dashboard.assets --fetch``) downloads the pinned npm tarball
  from the npm registry once, checks it against the sha512 integrity pinned
  below (from the registry's metadata), and extracts its ``dist/`` JS
  into ``dashboard/vendor/`` (git-ignored). Nothing is fetched at run time or
  by the tests: when the files are missing, :func:`ensure_static` fails with
  a message saying to run ``make setup``.
"""

from __future__ import annotations

import base64
import filecmp
import hashlib
import io
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import folium
import xstatic.pkg.jquery as xs_jquery
import xstatic.pkg.leaflet as xs_leaflet

#: Where Streamlit looks for static files: ``static/`` beside the main script.
STATIC_DIR = Path(__file__).resolve().parent / "static"

#: Streamlit serves STATIC_DIR at this path below the server's base URL.
STATIC_ROUTE = "app/static"

#: Third-party files fetched at setup time (``--fetch``), never committed.
VENDOR_DIR = Path(__file__).resolve().parent / "vendor"

NPM_REGISTRY = "https://registry.npmjs.org"


@dataclass(frozen=True)
class NpmPackage:
    """A pinned npm release whose ``package/``-relative ``files`` are vendored:
    version and the registry's integrity (``npm view NAME@VERSION dist.integrity``)."""

    name: str
    version: str
    integrity: str
    files: tuple[str, ...]

    @property
    def tarball(self) -> str:
        return f"{self.name}/-/{self.name.rsplit('/', 1)[-1]}-{self.version}.tgz"

    @property
    def folder(self) -> str:
        return f"{self.name}-{self.version}"


#: supercluster (with kdbush bundled in its UMD build): clusters 100,000 points
#: in ~0.2 s and returns only the clusters of the view, so the browser draws
#: tens of markers instead of building 100,000 (leaflet.markercluster did).
SUPERCLUSTER = NpmPackage(
    "supercluster", "8.0.1",
    "sha512-IiOea5kJ9iqzD2t7QJq/cREyLHTtSmUT6gQsweojg9WH2sYJqZK9SswTu6jrscO6D1G5v5vYZ9ru/eq85lXeZQ==",
    ("dist/supercluster.min.js",),
)
#: Every package ``--fetch`` vendors.
NPM_PACKAGES = (SUPERCLUSTER,)


class MissingAssetError(FileNotFoundError):
    """A map asset that setup should have fetched is not there."""


@dataclass(frozen=True)
class Asset:
    """One file copied from an installed xstatic package into STATIC_DIR."""

    source: Path  # absolute path in site-packages
    target: str  # path relative to STATIC_DIR (and to the static URL)


def _leaflet_dir() -> str:
    return f"leaflet-{xs_leaflet.VERSION}"


def _jquery_dir() -> str:
    return f"jquery-{xs_jquery.VERSION}"


def _heat_dir() -> str:
    return f"leaflet-heat-folium-{folium.__version__}"


def npm_vendor(package: NpmPackage = SUPERCLUSTER, vendor_dir: Path = VENDOR_DIR) -> Path:
    return vendor_dir / package.folder


def bundled_assets(vendor_dir: Path = VENDOR_DIR) -> list[Asset]:
    """Every file the map needs: Leaflet JS/CSS and the images its CSS
    references (layer control, default marker), and jQuery."""
    leaflet = Path(xs_leaflet.BASE_DIR)
    jquery = Path(xs_jquery.BASE_DIR)
    files = [
        Asset(leaflet / "leaflet.js", f"{_leaflet_dir()}/leaflet.js"),
        Asset(leaflet / "leaflet.css", f"{_leaflet_dir()}/leaflet.css"),
    ]
    files += [
        Asset(image, f"{_leaflet_dir()}/images/{image.name}")
        for image in sorted((leaflet / "images").glob("*.png"))
    ]
    files.append(Asset(jquery / "jquery.min.js", f"{_jquery_dir()}/jquery.min.js"))
    heat = Path(folium.__file__).resolve().parent / "templates" / "leaflet_heat.min.js"
    files.append(Asset(heat, f"{_heat_dir()}/leaflet-heat.js"))
    for package in NPM_PACKAGES:
        files += [Asset(npm_vendor(package, vendor_dir) / Path(name).name, f"{package.folder}/{Path(name).name}")
                  for name in package.files]
    return files


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def extract_npm(package: NpmPackage, tarball: bytes, vendor_dir: Path = VENDOR_DIR) -> Path:
    """Check ``tarball`` against the package's pinned integrity and extract its
    files into ``vendor_dir`` (written aside, renamed into place)."""
    found = _integrity(tarball)
    if found != package.integrity:
        raise ValueError(f"{package.name} tarball integrity {found} != pinned {package.integrity}")
    target = npm_vendor(package, vendor_dir)
    vendor_dir.mkdir(parents=True, exist_ok=True)
    ignore = vendor_dir / ".gitignore"
    if not ignore.is_file():
        ignore.write_text("# fetched by `python -m dashboard.assets --fetch`: never commit these\n*\n")
    staging = Path(tempfile.mkdtemp(dir=vendor_dir, prefix=".fetch-"))
    os.chmod(staging, 0o755)
    try:
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
            for name in package.files:
                member = tar.getmember(f"package/{name}")
                if not member.isfile():
                    raise ValueError(f"{member.name} is not a file in the tarball")
                (staging / Path(name).name).write_bytes(tar.extractfile(member).read())
        (staging / "INTEGRITY").write_text(package.integrity + "\n")
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return target


def npm_ready(package: NpmPackage = SUPERCLUSTER, vendor_dir: Path = VENDOR_DIR) -> bool:
    """True when the vendored package is there and came from the pinned tarball."""
    target = npm_vendor(package, vendor_dir)
    stamp = target / "INTEGRITY"
    return (stamp.is_file() and stamp.read_text().strip() == package.integrity
            and all((target / Path(name).name).is_file() for name in package.files))


def fetch_npm(package: NpmPackage = SUPERCLUSTER, vendor_dir: Path = VENDOR_DIR, registry: str | None = None) -> Path:
    """Download the package's pinned tarball from the npm registry
    (``NPM_CONFIG_REGISTRY`` or registry.npmjs.org) unless it is already
    vendored; setup time only."""
    if npm_ready(package, vendor_dir):
        return npm_vendor(package, vendor_dir)
    base = (registry or os.environ.get("NPM_CONFIG_REGISTRY") or NPM_REGISTRY).rstrip("/")
    with urllib.request.urlopen(f"{base}/{package.tarball}", timeout=60) as resp:
        tarball = resp.read()
    return extract_npm(package, tarball, vendor_dir)


def fetch_all(vendor_dir: Path = VENDOR_DIR, registry: str | None = None) -> list[Path]:
    """``make setup``: every package of :data:`NPM_PACKAGES`, fetched once."""
    return [fetch_npm(package, vendor_dir, registry) for package in NPM_PACKAGES]


def ensure_static(static_dir: Path = STATIC_DIR, vendor_dir: Path = VENDOR_DIR) -> Path:
    """Copy the bundled assets into ``static_dir`` where missing or different.

    Each file is written beside its target and renamed over it, so a browser
    never receives a half-copied file. A ``.gitignore`` of ``*`` keeps the
    copies out of git. Returns ``static_dir``. Raises :class:`MissingAssetError`
    when a vendored npm package has not been fetched.
    """
    for package in NPM_PACKAGES:
        if not npm_ready(package, vendor_dir):
            raise MissingAssetError(
                f"{package.name} {package.version} is missing from {npm_vendor(package, vendor_dir)}: "
                "run `make setup` (or `python -m dashboard.assets --fetch`) once, with access to the npm registry")
    for asset in bundled_assets(vendor_dir):
        if not asset.source.is_file():
            raise FileNotFoundError(f"{asset.source}: missing from the installed package")
        target = static_dir / asset.target
        if target.is_file() and filecmp.cmp(asset.source, target, shallow=False):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        os.close(fd)
        try:
            shutil.copyfile(asset.source, tmp)
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    ignore = static_dir / ".gitignore"
    if not ignore.is_file():
        ignore.write_text("# generated by dashboard/assets.py: never commit these copies\n*\n")
    return static_dir


def static_base_url(base_url_path: str = "") -> str:
    """The absolute URL path where Streamlit serves STATIC_DIR, honouring
    ``server.baseUrlPath`` (the map runs in a component iframe whose own URL
    is elsewhere, so a path relative to the page would be wrong)."""
    parts = [p for p in (base_url_path.strip("/"), STATIC_ROUTE) if p]
    return "/" + "/".join(parts)


def map_js(base: str) -> list[tuple[str, str]]:
    """(name, url) pairs for a folium element's ``default_js``; order matters."""
    return [
        ("leaflet", f"{base}/{_leaflet_dir()}/leaflet.js"),
        ("jquery", f"{base}/{_jquery_dir()}/jquery.min.js"),
    ]


def map_css(base: str) -> list[tuple[str, str]]:
    return [("leaflet_css", f"{base}/{_leaflet_dir()}/leaflet.css")]


def cluster_js(base: str) -> list[tuple[str, str]]:
    return [("supercluster", f"{base}/{SUPERCLUSTER.folder}/supercluster.min.js")]


def heat_js(base: str) -> list[tuple[str, str]]:
    return [("leaflet-heat.js", f"{base}/{_heat_dir()}/leaflet-heat.js")]


def main(argv: list[str] | None = None) -> int:
    """``python -m dashboard.assets [--fetch] [DIR]``: generate the static
    files now; ``--fetch`` first downloads the npm packages if needed."""
    args = list(sys.argv[1:] if argv is None else argv)
    if "--fetch" in args:
        args.remove("--fetch")
        for package, folder in zip(NPM_PACKAGES, fetch_all()):
            print(f"{package.name} {package.version} in {folder}")
    try:
        target = ensure_static(Path(args[0]) if args else STATIC_DIR)
    except MissingAssetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"map assets ready in {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
