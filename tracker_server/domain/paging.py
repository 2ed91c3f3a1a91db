"""Opaque page tokens: base64 of a small JSON list, rejected with InvalidArgument when tampered."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from tracker_server.domain.errors import InvalidArgument


def encode_token(*key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode()


def decode_token(token: str, arity: int) -> list[Any] | None:
    """The key inside ``token``; None for the empty token (the first page)."""
    if not token:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        key = None
    if not isinstance(key, list) or len(key) != arity:
        raise InvalidArgument("page_token is not a token this server issued (pass next_page_token unchanged)")
    return key
