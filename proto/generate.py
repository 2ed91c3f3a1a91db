"""Regenerate the Python code for the wire contract: ``make proto`` (or ``python proto/generate.py``).

Writes ``tracker_client/_proto/`` (messages, ``.pyi`` stubs, gRPC stubs). The contract lives in
``proto/tracker/v1/tracker.proto``; it is compiled under the virtual path ``tracker_client/_proto``
so that the generated imports are absolute imports of our own package and need no patching.
``tests/test_proto_fresh.py`` regenerates into a temporary directory and fails when the committed
files differ.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "proto" / "tracker" / "v1"
PACKAGE = "tracker_client/_proto"
INIT = '"""Generated from proto/tracker/v1/tracker.proto by `make proto`. Do not edit."""\n'


def generate(out_root: Path) -> Path:
    """Compile the contract into ``out_root/tracker_client/_proto`` and return that directory."""
    import grpc_tools
    from grpc_tools import protoc

    include = Path(grpc_tools.__file__).parent / "_proto"
    target = out_root / PACKAGE
    target.mkdir(parents=True, exist_ok=True)
    args = [
        "protoc",
        f"-I{PACKAGE}={SOURCE}",
        f"-I{include}",
        f"--python_out={out_root}",
        f"--pyi_out={out_root}",
        f"--grpc_python_out={out_root}",
        str(SOURCE / "tracker.proto"),
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    (target / "__init__.py").write_text(INIT)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT, help="root to write tracker_client/_proto under")
    target = generate(parser.parse_args().out)
    print(f"generated {target}", file=sys.stderr)


if __name__ == "__main__":
    main()
