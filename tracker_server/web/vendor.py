"""Vendor the charting library into the package: ``make vendor`` (``python tracker_server/web/vendor.py``).

The web UI has no build step and loads nothing from another origin: it uses Apache ECharts'
prebuilt ``dist/echarts.min.js``, taken from the npm registry at the version pinned here, checked
against the registry's integrity hash, and committed with its licence and notice under
``static/vendor/echarts/``. ``tests/web/test_assets.py`` checks the committed file against
``SHA256``, so a hand-edited or stale copy fails the suite.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import subprocess
import tarfile
import urllib.request
from pathlib import Path

NAME = "echarts"
VERSION = "6.1.0"
INTEGRITY = "sha512-q0yaFPggC9FUdsWH4blavRWFmxdrIodbkoKNAjJudAI6CA9gNPxHtV2RcZNEepZVlk4yvBYkOkbk6HIVpIyHZA=="
FILES = {
    "package/dist/echarts.min.js": "echarts.min.js",
    "package/LICENSE": "LICENSE",
    "package/NOTICE": "NOTICE",
}
TARGET = Path(__file__).resolve().parent / "static" / "vendor" / NAME
SHA256_FILE = TARGET / "SHA256SUMS"


def main() -> None:
    tarball = json.loads(
        subprocess.run(
            ["npm", "view", f"{NAME}@{VERSION}", "dist", "--json"], check=True, capture_output=True, text=True
        ).stdout
    )["tarball"]
    data = urllib.request.urlopen(tarball, timeout=60).read()  # noqa: S310 (the npm registry's https URL)
    digest = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    if digest != INTEGRITY:
        raise SystemExit(f"{tarball}: integrity {digest} is not the pinned {INTEGRITY}")
    TARGET.mkdir(parents=True, exist_ok=True)
    sums = []
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        for member, name in FILES.items():
            extracted = archive.extractfile(member)
            assert extracted is not None, member
            content = extracted.read()
            (TARGET / name).write_bytes(content)
            sums.append(f"{hashlib.sha256(content).hexdigest()}  {name}\n")
    SHA256_FILE.write_text(f"# {NAME} {VERSION} from the npm registry ({INTEGRITY})\n" + "".join(sums))
    print(f"vendored {NAME} {VERSION} into {TARGET}")


if __name__ == "__main__":
    main()
