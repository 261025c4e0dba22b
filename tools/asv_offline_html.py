"""Make the HTML report of ``asv publish`` work without internet access.

asv 0.6's ``index.html`` loads jQuery, flot, stupidtable, blueimp-md5 and
Bootstrap from CDNs (asv#1149); offline the page only says that "one or more
external (JavaScript) dependencies ... failed to load". This script copies the
same library versions out of npm tarballs into ``HTML_DIR/vendor/`` and points
``index.html`` at them (dropping the SRI hashes, which are for the CDN bytes).

Get the tarballs once (npm's registry is reachable where PyPI is)::

    mkdir -p .asv/vendor && npm pack --pack-destination .asv/vendor \\
        jquery@3.3.1 flot@0.8.3 flot-orderbars@1.0.0 stupid-table-plugin@1.1.3 \\
        blueimp-md5@2.19.0 bootstrap@3.1.1

then after every ``asv publish``::

    python tools/asv_offline_html.py --html .asv/html --tarballs .asv/vendor

Running it twice is harmless. It stops with an error, naming the URL, if
``index.html`` loads a CDN file it does not know (a newer asv): add it to
``LIBRARIES``.
"""

from __future__ import annotations

import argparse
import re
import sys
import tarfile
from pathlib import Path, PurePosixPath

# (pattern for the CDN URL, npm tarball, file inside it; \1 is the pattern's group)
LIBRARIES = [
    (
        r"code\.jquery\.com/jquery-3\.3\.1\.min\.js",
        "jquery-3.3.1.tgz",
        "package/dist/jquery.min.js",
    ),
    (r"/flot/0\.8\.3/jquery\.flot\.min\.js", "flot-0.8.3.tgz", "package/jquery.flot.js"),
    (
        r"/flot/0\.8\.3/jquery\.flot\.(time|selection|categories)\.min\.js",
        "flot-0.8.3.tgz",
        r"package/jquery.flot.\1.js",
    ),
    (
        r"/flot-orderbars@1\.0\.0/js/jquery\.flot\.orderBars\.js",
        "flot-orderbars-1.0.0.tgz",
        "package/js/jquery.flot.orderBars.js",
    ),
    # asv pins stupidtable 1.0.1, which is not on npm; 1.1.3 has the same API
    (
        r"/stupidtable/1\.0\.1/stupidtable\.min\.js",
        "stupid-table-plugin-1.1.3.tgz",
        "package/stupidtable.min.js",
    ),
    (r"/blueimp-md5/2\.19\.0/js/md5\.min\.js", "blueimp-md5-2.19.0.tgz", "package/js/md5.min.js"),
    (
        r"/bootstrap@3\.1\.1/dist/js/bootstrap\.min\.js",
        "bootstrap-3.1.1.tgz",
        "package/dist/js/bootstrap.min.js",
    ),
    (
        r"/bootstrap@3\.1\.1/dist/css/bootstrap\.min\.css",
        "bootstrap-3.1.1.tgz",
        "package/dist/css/bootstrap.min.css",
    ),
]
# folders copied along with a library: bootstrap.min.css loads ../fonts/glyphicons-*
EXTRA_FOLDERS = {"bootstrap-3.1.1.tgz": ["package/dist/fonts/"]}

TAG = re.compile(
    r'<(?P<kind>script|link)\b[^>]*?\b(?:src|href)="(?P<url>https?://[^"]+)"[^>]*>(?:\s*</script>)?',
    re.IGNORECASE,
)


def _local_path(tarball: str, member: str) -> PurePosixPath:
    """``vendor/<tarball stem>/<member without package/>``, keeping the package's own layout."""
    inner = PurePosixPath(member)
    if inner.parts[0] != "package" or ".." in inner.parts:
        msg = f"unexpected member {member!r} in {tarball}"
        raise SystemExit(msg)
    return PurePosixPath("vendor", tarball.removesuffix(".tgz"), *inner.parts[1:])


def _extract(tarballs: Path, tarball: str, members: list[str], html_dir: Path) -> None:
    path = tarballs / tarball
    if not path.is_file():
        msg = f"{path} is missing: run the npm pack command in this script's docstring"
        raise SystemExit(msg)
    with tarfile.open(path) as tar:
        names = tar.getnames()
        for member in members:
            wanted = [
                n for n in names if n == member or (member.endswith("/") and n.startswith(member))
            ]
            if not wanted:
                msg = f"{member!r} not found in {path}"
                raise SystemExit(msg)
            for name in wanted:
                info = tar.getmember(name)
                if not info.isfile():
                    continue
                target = html_dir / _local_path(tarball, name)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(tar.extractfile(info).read())


def make_offline(html_dir: Path, tarballs: Path) -> list[str]:
    """Rewrite ``html_dir/index.html`` to local copies; returns the URLs replaced."""
    index = html_dir / "index.html"
    text = index.read_text(encoding="utf-8")
    replaced, unknown, needed = [], [], {}

    def local_tag(match: re.Match) -> str:
        url = match.group("url")
        for pattern, tarball, member in LIBRARIES:
            found = re.search(pattern + "$", url)
            if found:
                member = found.expand(member)
                needed.setdefault(tarball, set()).add(member)
                local = _local_path(tarball, member)
                replaced.append(url)
                if match.group("kind").lower() == "link":
                    return f'<link rel="stylesheet" href="{local}">'
                return f'<script src="{local}" onerror="js_load_failure()"></script>'
        unknown.append(url)
        return match.group(0)

    text = TAG.sub(local_tag, text)
    if unknown:
        msg = (
            "index.html loads files this script does not know; add them to LIBRARIES:\n  "
            + "\n  ".join(unknown)
        )
        raise SystemExit(msg)
    for tarball, members in needed.items():
        _extract(tarballs, tarball, sorted(members) + EXTRA_FOLDERS.get(tarball, []), html_dir)
    index.write_text(text, encoding="utf-8")
    return replaced


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--html", type=Path, default=Path(".asv/html"), help="asv's html_dir (default .asv/html)"
    )
    parser.add_argument(
        "--tarballs",
        type=Path,
        default=Path(".asv/vendor"),
        help="folder with the npm pack tarballs (default .asv/vendor)",
    )
    args = parser.parse_args(argv)
    if not (args.html / "index.html").is_file():
        parser.error(f"{args.html / 'index.html'} not found: run `asv publish` first")
    replaced = make_offline(args.html, args.tarballs)
    if replaced:
        print(
            f"{args.html / 'index.html'}: {len(replaced)} CDN files now load from {args.html / 'vendor'}/"
        )
    else:
        print(f"{args.html / 'index.html'}: no CDN files left (already offline)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
