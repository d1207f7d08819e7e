"""Secrets the server must read again later, kept encrypted at rest.

Each use has a key of its own, derived from ``SECRET_KEY`` (which encrypts) and
``SECRET_KEY_FALLBACKS`` (which still decrypt while the key is rotated): webhook secrets,
and the links of invitations and password resets waiting in the outbox to be mailed.
"""

from __future__ import annotations

import base64
import functools

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app


def fernet(purpose: bytes) -> MultiFernet:
    """The keys for ``purpose``: the current ``SECRET_KEY``'s first."""
    config = current_app.config
    keys = [config["SECRET_KEY"], *config.get("SECRET_KEY_FALLBACKS", ())]
    return MultiFernet([_fernet_for(key, purpose) for key in keys])


@functools.lru_cache(maxsize=16)
def _fernet_for(secret_key: str, purpose: bytes) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))
