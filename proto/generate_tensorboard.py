"""Regenerate the Python code for the vendored TensorBoard messages: ``python proto/generate_tensorboard.py``.

Writes ``tracker_server/tensorboard/_proto/`` (messages and ``.pyi`` stubs) from
``proto/tensorboard/tensorboard_events.proto``, compiled under the virtual path
``tracker_server/tensorboard/_proto`` so that the generated module is importable by its absolute name
and needs no patching. ``tests/server/test_tensorboard_records.py`` regenerates into a temporary
directory and fails when the committed files differ.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import grpc_tools
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "proto" / "tensorboard"
PACKAGE = "tracker_server/tensorboard/_proto"
INIT = (
    '"""Generated from proto/tensorboard/tensorboard_events.proto by proto/generate_tensorboard.py.'
    ' Do not edit."""\n'
)


def generate(out_root: Path) -> Path:
    """Compile the vendored messages into ``out_root/tracker_server/tensorboard/_proto``; return it."""
    include = Path(grpc_tools.__file__).parent / "_proto"
    target = out_root / PACKAGE
    target.mkdir(parents=True, exist_ok=True)
    args = [
        "protoc",
        f"-I{PACKAGE}={SOURCE}",
        f"-I{include}",
        f"--python_out={out_root}",
        f"--pyi_out={out_root}",
        str(SOURCE / "tensorboard_events.proto"),
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    (target / "__init__.py").write_text(INIT)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=ROOT, help="root to write tracker_server/tensorboard/_proto under"
    )
    target = generate(parser.parse_args().out)
    print(f"generated {target}", file=sys.stderr)


if __name__ == "__main__":
    main()
