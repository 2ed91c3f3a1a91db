"""The shipped web assets: the vendored charting library is the pinned release, byte for byte, with
its licence; the UI loads nothing from another origin and has no build step to go stale."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from tracker_server.web import vendor

WEB = Path(vendor.__file__).resolve().parent


def test_the_vendored_echarts_is_the_pinned_release_with_its_licence() -> None:
    lines = vendor.SHA256_FILE.read_text().splitlines()
    assert lines[0] == f"# {vendor.NAME} {vendor.VERSION} from the npm registry ({vendor.INTEGRITY})"
    sums = dict(reversed(line.split("  ")) for line in lines[1:])
    assert set(sums) == set(vendor.FILES.values())
    for name, digest in sums.items():
        assert hashlib.sha256((vendor.TARGET / name).read_bytes()).hexdigest() == digest, name
    assert "Apache License" in (vendor.TARGET / "LICENSE").read_text()


def test_the_ui_loads_only_its_own_files() -> None:
    sources = [
        WEB / "index.html",
        *sorted((WEB / "static").rglob("*.js")),
        *sorted((WEB / "static").rglob("*.css")),
    ]
    ours = [path for path in sources if "vendor" not in path.parts]
    assert ours, "no UI sources found"
    for path in ours:
        text = path.read_text()
        assert not re.search(r"(src|href)=[\"']?(https?:)?//", text), path
        assert not re.search(r"\bimport\s[^;]*from\s+[\"']https?:", text), path
        assert "innerHTML" not in text and "eval(" not in text and "new Function" not in text, path
    referenced = re.findall(r"(?:src|href)=\"(/static/[^\"]+)\"", (WEB / "index.html").read_text())
    assert referenced and all((WEB / ref.removeprefix("/")).is_file() for ref in referenced), referenced
