"""The NIK at rest: encrypted for the rare need to read it, keyed-hashed for lookup, masked for eyes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
from typing import Any

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# Raw updates sealed with Fernet (before AES-GCM); still opened, never written any more.
SEALED = "sealed:"
# AES-256-GCM: one call into the library per update, where Fernet's CBC, padding, HMAC and
# their objects took a tenth of each webhook POST. A random 96-bit nonce per update keeps
# well inside GCM's bound (2^32 messages per key) for any inbox this serves.
SEALED_GCM = "sealed2:"
_NONCE = 12
_AAD = b"sinergi-inbox"


class NikVault:
    """Encrypts, hashes and masks NIKs with keys derived from the operator's secret."""

    def __init__(self, secret: str, data_key: str = "") -> None:
        self._hash_key = hashlib.sha256(b"sinergi-nik-hash|" + secret.encode()).digest()
        key = data_key.encode() if data_key else _derive_fernet_key(secret)
        self._fernet = Fernet(key)
        self._gcm = AESGCM(hashlib.sha256(b"sinergi-inbox-seal|" + key).digest())

    def hash(self, value: str) -> str:
        """A keyed hash: equal NIKs match, and a leaked table cannot be brute-forced offline."""
        return hmac.new(self._hash_key, value.encode(), hashlib.sha256).hexdigest()

    def encrypt(self, nik: str) -> str:
        """The NIK encrypted (Fernet: AES-128-CBC with HMAC), as text."""
        return self._fernet.encrypt(nik.encode()).decode()

    def decrypt(self, token: str) -> str:
        """The NIK back, for the rare export that a role allows."""
        return self._fernet.decrypt(token.encode()).decode()

    def seal(self, text: str) -> str:
        """A raw update sealed for the inbox: what people type (a NIK, say) is not kept in clear."""
        nonce = os.urandom(_NONCE)
        sealed = nonce + self._gcm.encrypt(nonce, text.encode(), _AAD)
        return SEALED_GCM + base64.urlsafe_b64encode(sealed).decode()

    def unseal(self, stored: str) -> str:
        """A stored raw update back in clear (Fernet-sealed and unsealed older rows too)."""
        if stored.startswith(SEALED_GCM):
            sealed = base64.urlsafe_b64decode(stored[len(SEALED_GCM) :])
            return self._gcm.decrypt(sealed[:_NONCE], sealed[_NONCE:], _AAD).decode()
        if stored.startswith(SEALED):
            return self._fernet.decrypt(stored[len(SEALED) :].encode()).decode()
        return stored

    def seal_bytes(self, data: bytes) -> str:
        """A whole file sealed as text (an uploaded roster: every NIK and name of it)."""
        return SEALED + self._fernet.encrypt(data).decode()

    def open_bytes(self, stored: str) -> bytes:
        """A sealed file back."""
        return self._fernet.decrypt(stored.removeprefix(SEALED).encode())

    def seal_json(self, value: Any) -> str:
        """A JSON value sealed as text (an import's report quotes the file's values)."""
        return self.seal_bytes(json.dumps(value, default=str).encode())

    def open_json(self, stored: str) -> Any:
        """A sealed JSON value back."""
        return json.loads(self.open_bytes(stored))


_SIXTEEN = re.compile(r"(?<!\d)\d(?:[ .-]?\d){15}(?!\d)")


def redact_numbers(text: str) -> str:
    """Every 16-digit run (a NIK or No. KK, spaced or not) masked, for what is kept after processing."""
    return _SIXTEEN.sub(lambda m: mask_nik(re.sub(r"\D", "", m.group())), text)


def _derive_fernet_key(secret: str) -> bytes:
    """A Fernet key from the secret, separate from the hash key."""
    digest = hashlib.sha256(b"sinergi-nik-encrypt|" + secret.encode()).digest()
    return base64.urlsafe_b64encode(digest)


def mask_nik(nik: str) -> str:
    """`6472********0001`: the region and serial stay, the birth date goes."""
    return nik[:4] + "*" * (len(nik) - 8) + nik[-4:] if len(nik) >= 8 else "*" * len(nik)


def mask_name(name: str) -> str:
    """`Siti A***** R*****`: enough to recognise oneself, not enough to expose a neighbour."""
    words = name.split()
    if not words:
        return ""
    return " ".join([words[0]] + [w[0] + "*" * (len(w) - 1) for w in words[1:]])
