"""The JavaScript and CSS the interactive maps need, for offline use.

Many county office networks block foreign CDNs, so by default the maps load every
script and style sheet from ``maps/assets/`` (``--cdn-maps`` opts into the CDN). The
files come from the npm registry (``npm pack``, installed once at set-up into a cache
folder, never committed) and are checked against the SHA-256 digests pinned here.
Both the CDN and the local copy use the same layout, ``<package>@<version>/<path>``, so
a map differs only in its base.

Set-up (once per machine; needs ``npm`` and the npm registry)::

    python -m coverage.io.assets install          # into the default cache folder
    python -m coverage.io.assets install --to DIR # anywhere

The cache folder is ``$COVERAGE_PLANNER_ASSETS`` when set, else
``$XDG_CACHE_HOME/coverage-planner/map-assets`` (``~/.cache/...``).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from coverage.errors import CoverageError
from coverage.io.atomic import write_bytes_atomic

CDN_BASE = "https://cdn.jsdelivr.net/npm"
"""Where the maps load their scripts from when not offline (same layout as the cache)."""

ENV_VAR = "COVERAGE_PLANNER_ASSETS"


class AssetError(CoverageError):
    """The offline map assets are missing or cannot be installed (exit code 2)."""

    exit_code = 2


@dataclass(frozen=True)
class NpmPackage:
    """One npm package and the files of it the maps use, with their SHA-256 digests.

    Parameters
    ----------
    name, version : str
        Exact npm package name and version.
    files : mapping of str to str
        Path inside the package (without the tarball's ``package/`` prefix) to the
        hex SHA-256 digest the file must have.
    """

    name: str
    version: str
    files: Mapping[str, str]

    @property
    def spec(self) -> str:
        """``name@version``, as npm and the CDN write it."""
        return f"{self.name}@{self.version}"


LEAFLET = NpmPackage("leaflet", "1.9.4", {
    "LICENSE": "53e8dc25862014e4324741ca18fbe3611e11d42ef69f59f86ea8c5389647d4cb",
    "dist/leaflet.js": "db49d009c841f5ca34a888c96511ae936fd9f5533e90d8b2c4d57596f4e5641a",
    "dist/leaflet.css": "a7837102824184820dfa198d1ebcd109ff6d0ff9a2672a074b9a1b4d147d04c6",
    "dist/images/layers.png":
        "1dbbe9d028e292f36fcba8f8b3a28d5e8932754fc2215b9ac69e4cdecf5107c6",
    "dist/images/layers-2x.png":
        "066daca850d8ffbef007af00b06eac0015728dee279c51f3cb6c716df7c42edf",
    "dist/images/marker-icon.png":
        "574c3a5cca85f4114085b6841596d62f00d7c892c7b03f28cbfa301deb1dc437",
    "dist/images/marker-icon-2x.png":
        "00179c4c1ee830d3a108412ae0d294f55776cfeb085c60129a39aa6fc4ae2528",
    "dist/images/marker-shadow.png":
        "264f5c640339f042dd729062cfc04c17f8ea0f29882b538e3848ed8f10edb4da",
})
FULLSCREEN = NpmPackage("leaflet.fullscreen", "3.0.0", {
    "LICENSE": "cbbb5f2702cb5ed4e9a850b733bedaaf555cb3075e77d5c29cb4fac8b87504a1",
    "Control.FullScreen.js": "3c542b5d5844cc00cff2787dff49504a31f3bed9de3161e5b26e0c0437d6bbb7",
    "Control.FullScreen.css":
        "31f9593e6e715114e23076ba11628f68a301025b44b85ffb70fca4bc9475214e",
    "icon-fullscreen.svg": "034807095346f7be3b9d5b2add42ba0677af1a89d2f90a0caa5c75ec2780a2a2",
})
MEASURE = NpmPackage("leaflet-measure", "3.1.0", {
    "LICENSE": "2488a024ae07a6968ee690ac1d4d6be0444680aae757a153330628ee3cf71106",
    "dist/leaflet-measure.js": "8832fadf93bbe1b8de557fbdafa9e10228f1544fc17e42ac29fac4debec968f2",
    "dist/leaflet-measure.cn.js":
        "e550726f9221c7395d60a8671aac403aad3665be18c20eb17d9dd91a61544990",
    "dist/leaflet-measure.css":
        "bf2e362d3c92d872b8291455fc36b0a07a54600491772408c50c1b3f0025ecbf",
    **{f"dist/assets/{name}.png": digest for name, digest in {
        "cancel": "2972e9515ff9b486d358ffe03777ebdf2dd35a2c8ccf52424fda8a8d02c0fa85",
        "cancel_@2X": "a59c1612e89468ce9d272d2e0d086c0f13029234ee1cce322237e9038a756ef3",
        "check": "7970eeda1c1d647da160b406bd0b6d336e2fddebc4f74431c306d7262a380043",
        "check_@2X": "948a01a00a8ffcf9f9f1aa35a47432d8ae28bcc26d531b8fb7e14cd52d693893",
        "focus": "40bb0aff173baa6b3e8dba04ac23ada71909e09a4ca7f28fc24fd49bd360ca7d",
        "focus_@2X": "a7914120026f40f5da0d6f20c62222547795affd21382558dabc0f53511a8624",
        "leaflet-measure": "f626b9ddcaedb86050a2039495e3636f6680bd585473bf05126b18df5fff41f2",
        "rulers": "dc7ae401048e6ad3c8f56d991cbc83a775f59937f10f6e62f087d288aa4d7137",
        "rulers_@2X": "558233345e005b15b6b81bfa0c75877b3e7e17c90641b92e72cb1faed7bbbf27",
        "start": "0194f340b27a4c5be35b83516c891c618016df39a7dab79f371b4cca0430e60a",
        "start_@2X": "f001d4f02102a672b95fa57d279869fabee53a27356a4e4efd0d1e3a99c22db9",
        "trash": "7107fd0636a571de720766fd9bcd6cb5c952488987a858dd902608130fca19dc",
        "trash_@2X": "1755d22b1ffb0e8589b26ac562330047366ed15c9d075b85d0426065714fc2bc",
    }.items()},
})
PACKAGES: tuple[NpmPackage, ...] = (LEAFLET, FULLSCREEN, MEASURE)


@dataclass(frozen=True)
class AssetLinks:
    """The script and style-sheet URLs one map page loads, in load order.

    Attributes
    ----------
    leaflet_js, leaflet_css, fullscreen_js, fullscreen_css, measure_js, measure_css : str
        URLs (absolute for the CDN, relative to the page for offline assets).
    offline : bool
        Whether the URLs point at the local copy.
    """

    leaflet_js: str
    leaflet_css: str
    fullscreen_js: str
    fullscreen_css: str
    measure_js: str
    measure_css: str
    offline: bool

    def all_urls(self) -> tuple[str, ...]:
        """Every URL, for checks that nothing else is loaded."""
        return (self.leaflet_js, self.leaflet_css, self.fullscreen_js, self.fullscreen_css,
                self.measure_js, self.measure_css)


def asset_links(offline_base: str | None = None, language: str = "en") -> AssetLinks:
    """The URLs of the map scripts: the CDN, or a folder relative to the HTML page.

    Parameters
    ----------
    offline_base : str, optional
        Folder relative to the page holding the local copy (e.g. ``"assets"``); None
        loads from the CDN.
    language : str
        ``"zh"`` uses the Chinese build of the measuring tool.

    Returns
    -------
    AssetLinks
    """
    base = CDN_BASE if offline_base is None else offline_base.rstrip("/")
    measure = "dist/leaflet-measure.cn.js" if language == "zh" else "dist/leaflet-measure.js"

    def url(pkg: NpmPackage, path: str) -> str:
        assert path in pkg.files, path
        return f"{base}/{pkg.spec}/{path}"

    return AssetLinks(
        leaflet_js=url(LEAFLET, "dist/leaflet.js"), leaflet_css=url(LEAFLET, "dist/leaflet.css"),
        fullscreen_js=url(FULLSCREEN, "Control.FullScreen.js"),
        fullscreen_css=url(FULLSCREEN, "Control.FullScreen.css"),
        measure_js=url(MEASURE, measure), measure_css=url(MEASURE, "dist/leaflet-measure.css"),
        offline=offline_base is not None,
    )


def default_cache_dir() -> Path:
    """Where :func:`install_assets` puts the files unless told otherwise."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    root = Path(xdg) if xdg else Path.home() / ".cache"
    return root / "coverage-planner" / "map-assets"


def _relative_files() -> dict[str, str]:
    """Relative path in an asset folder → expected SHA-256, for every file."""
    return {f"{pkg.spec}/{path}": digest for pkg in PACKAGES for path, digest in
            pkg.files.items()}


def missing_assets(folder: Path) -> list[str]:
    """Files of the manifest absent from ``folder`` or with the wrong digest."""
    bad = []
    for rel, digest in _relative_files().items():
        path = folder / rel
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            bad.append(rel)
    return bad


def _npm_pack(pkg: NpmPackage, workdir: Path, npm: str) -> bytes:
    """Fetch one package tarball with ``npm pack`` (npm checks the registry's integrity)."""
    try:
        proc = subprocess.run(
            [npm, "pack", pkg.spec, "--json", "--pack-destination", str(workdir)],
            cwd=workdir, capture_output=True, text=True, timeout=300, check=False)
    except FileNotFoundError:
        raise AssetError(f"'{npm}' not found. Fix: install Node.js and npm (Debian: "
                         "apt-get install npm), then run `python -m coverage.io.assets "
                         "install` again.") from None
    except subprocess.TimeoutExpired:
        raise AssetError(f"npm pack {pkg.spec} timed out. Fix: check access to the npm "
                         "registry and try again.") from None
    if proc.returncode != 0:
        raise AssetError(f"npm pack {pkg.spec} failed: {proc.stderr.strip()[-500:]}. Fix: "
                         "check access to the npm registry and try again.")
    filename = json.loads(proc.stdout)[0]["filename"]
    return (workdir / filename).read_bytes()


def _extract(pkg: NpmPackage, tarball: bytes) -> dict[str, bytes]:
    """The manifest's files from a package tarball, each checked against its digest."""
    out: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            name = member.name.split("/", 1)[1] if "/" in member.name else member.name
            if name in pkg.files:
                handle = tar.extractfile(member)
                assert handle is not None
                out[name] = handle.read()
    for path, digest in pkg.files.items():
        if path not in out:
            raise AssetError(f"{pkg.spec}: {path} not in the package. Fix: report this; the "
                             "pinned asset list does not match the registry.")
        got = hashlib.sha256(out[path]).hexdigest()
        if got != digest:
            raise AssetError(f"{pkg.spec}/{path}: SHA-256 {got} differs from the pinned "
                             f"{digest}. Fix: do not use this copy; report it.")
    return out


def install_assets(dest: Path | None = None, npm: str = "npm") -> Path:
    """Install every map asset into ``dest`` (default: :func:`default_cache_dir`).

    Files already present with the right digest are kept; nothing else is written.

    Parameters
    ----------
    dest : Path, optional
        Asset folder to fill.
    npm : str
        The npm executable.

    Returns
    -------
    Path
        The asset folder.

    Raises
    ------
    AssetError
        npm is missing, the registry cannot be reached, or a file's digest is wrong.
    """
    dest = Path(dest) if dest is not None else default_cache_dir()
    missing = set(missing_assets(dest))
    if not missing:
        return dest
    with tempfile.TemporaryDirectory(prefix="coverage-assets-") as tmp:
        for pkg in PACKAGES:
            if not any(rel.startswith(pkg.spec + "/") for rel in missing):
                continue
            for path, data in _extract(pkg, _npm_pack(pkg, Path(tmp), npm)).items():
                write_bytes_atomic(dest / pkg.spec / path, data)
    return dest


def locate_assets(folder: Path | None = None) -> Path:
    """The installed asset folder, checked complete.

    Raises
    ------
    AssetError
        Some files are missing or altered, with the command that installs them.
    """
    folder = Path(folder) if folder is not None else default_cache_dir()
    bad = missing_assets(folder)
    if bad:
        raise AssetError(
            f"offline map assets missing or altered in {folder} ({len(bad)} file(s), e.g. "
            f"{bad[0]}). Fix: run `make assets` (or `python -m coverage.io.assets install`) "
            f"once (needs npm and the npm registry), or set {ENV_VAR} to a folder holding "
            f"them; maps that load their scripts from the internet: `run --cdn-maps`.")
    return folder


def asset_files(folder: Path | None = None) -> dict[str, bytes]:
    """Every asset file (relative path → bytes), read from a checked folder."""
    folder = locate_assets(folder)
    return {rel: (folder / rel).read_bytes() for rel in sorted(_relative_files())}


def copy_assets(target: Path, folder: Path | None = None) -> list[Path]:
    """Copy the checked assets into ``target`` (e.g. ``maps/assets``); returns the files."""
    written = []
    for rel, data in asset_files(folder).items():
        path = Path(target) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(path, data)
        written.append(path)
    return written


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coverage.io.assets",
                                     description="Install the offline map assets from npm.")
    sub = parser.add_subparsers(dest="command", required=True)
    inst = sub.add_parser("install", help="fetch (npm pack), check and install the assets")
    inst.add_argument("--to", type=Path, default=None, help="asset folder (default: cache)")
    inst.add_argument("--npm", default="npm", help="npm executable")
    check = sub.add_parser("check", help="exit 1 unless the assets are installed")
    check.add_argument("--to", type=Path, default=None)
    args = parser.parse_args(argv)
    try:
        if args.command == "install":
            folder = install_assets(args.to, args.npm)
            print(f"map assets ready in {folder}")
        else:
            print(f"map assets ready in {locate_assets(args.to)}")
    except AssetError as exc:
        print(str(exc), file=sys.stderr)
        return 1 if args.command == "check" else exc.exit_code
    return 0


__all__ = ["CDN_BASE", "PACKAGES", "AssetError", "AssetLinks", "asset_files", "asset_links",
           "copy_assets", "default_cache_dir", "install_assets", "locate_assets",
           "missing_assets"]

if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(_main())
