#!/usr/bin/python3
"""Produce OMEMO 2 payload encryptions as known answers.

python3-twomemo (Debian; independent of gab's) encrypts plaintexts of
several lengths as XEP-0384 has it: a random 32-byte key, HKDF-SHA-256 to an
AES-256-CBC key, an HMAC-SHA-256 key and an IV, the HMAC of the ciphertext
truncated to 16 bytes. The random key is fixed, so gab, given the same key,
must produce the same ciphertext and key material (key || MAC) byte for
byte. The Go tests read only the JSON this writes (payload2.json); run
again only to regenerate it:

    /usr/bin/python3 omemo/testdata/gen_payload2.py > omemo/testdata/payload2.json
"""
import asyncio
import hashlib
import json

import twomemo
import twomemo.twomemo
from twomemo.twomemo import ContentImpl, PlainKeyMaterialImpl, Twomemo


def det(label, n):
    out = b""
    c = 0
    while len(out) < n:
        out += hashlib.sha512(f"gab-omemo-payload2-{label}-{c}".encode()).digest()
        c += 1
    return out[:n]


class FixedSecrets:
    """Stands in for the secrets module inside python3-twomemo."""

    def __init__(self):
        self.key = None

    def token_bytes(self, n):
        assert n == 32
        return self.key


async def main():
    fixed = FixedSecrets()
    twomemo.twomemo.secrets = fixed
    out = []
    for i, n in enumerate([0, 1, 15, 16, 17, 31, 32, 100, 1000]):
        pt = det(f"plaintext-{i}", n)
        fixed.key = det(f"key-{i}", 32)
        # encrypt_plaintext and decrypt_plaintext use nothing of the
        # backend's state.
        content, km = await Twomemo.encrypt_plaintext(None, pt)
        assert km.key == fixed.key
        got = await Twomemo.decrypt_plaintext(None, ContentImpl(content.ciphertext),
                                              PlainKeyMaterialImpl(km.key, km.auth_tag))
        assert got == pt
        out.append({
            "plaintext": pt.hex(),
            "key": km.key.hex(),
            "ciphertext": content.ciphertext.hex(),
            "key_material": (km.key + km.auth_tag).hex(),
        })
    print(json.dumps({"source": "python3-twomemo " + twomemo.__version__["full"], "vectors": out}, indent=1))


asyncio.run(main())
