#!/usr/bin/python3
"""Produce OMEMO 0.3 payloads as known answers.

python3-oldmemo's own encrypt_plaintext (Debian's package; independent of
gab's) encrypts with its randomness fixed: first the 16-byte key, then the
12-byte IV. Its output is the payload and key||tag, the 32 bytes every
recipient's session encrypts. The legacy cases (16-byte IV of older
Conversations; the key alone with the tag at the end of the payload) are
made with the same AES-GCM of python3-cryptography that python3-oldmemo
uses, and the ones oldmemo can read are read back by its decrypt_plaintext.
The Go tests read only payload03.json; run again only to regenerate it:

    /usr/bin/python3 omemo/testdata/gen_payload03.py > omemo/testdata/payload03.json
"""
import asyncio
import hashlib
import json

import oldmemo
import oldmemo.oldmemo as om
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def det(label, n):
    return hashlib.sha512(f"gab-omemo-payload03-{label}".encode()).digest()[:n]


class FixedSecrets:
    def __init__(self, label):
        self.label, self.n = label, 0

    def token_bytes(self, n):
        self.n += 1
        return det(f"{self.label}-{self.n}", n)


async def main():
    cases = []
    for i, pt in enumerate([b"", b"x", b"Hello, OMEMO 0.3!",
                            "a longer message \u00e9\u00e8 with more than one block of AES".encode() * 3]):
        om.secrets = FixedSecrets(f"case-{i}")
        content, km = await om.Oldmemo.encrypt_plaintext(None, pt)
        key, iv = det(f"case-{i}-1", 16), det(f"case-{i}-2", 12)
        assert km.key == key and content.initialization_vector == iv
        if pt:  # oldmemo takes an empty payload for a key transport message
            assert await om.Oldmemo.decrypt_plaintext(None, content, km) == pt
        cases.append({"form": "current", "key": key.hex(), "iv": iv.hex(), "plaintext": pt.hex(),
                      "key_material": (km.key + km.auth_tag).hex(), "payload": content.ciphertext.hex()})

    # An older Conversations: 16-byte IV, key||tag through the session.
    key, iv, pt = det("legacy-iv-key", 16), det("legacy-iv-iv", 16), b"sixteen-byte IV"
    sealed = AESGCM(key).encrypt(iv, pt, None)
    content, km = om.ContentImpl(sealed[:-16], iv), om.PlainKeyMaterialImpl(key, sealed[-16:])
    assert await om.Oldmemo.decrypt_plaintext(None, content, km) == pt
    cases.append({"form": "legacy-iv", "key": key.hex(), "iv": iv.hex(), "plaintext": pt.hex(),
                  "key_material": (key + sealed[-16:]).hex(), "payload": sealed[:-16].hex()})

    # Older clients: the key alone through the session, the tag after the payload.
    key, iv, pt = det("legacy-tag-key", 16), det("legacy-tag-iv", 12), b"tag with the payload"
    sealed = AESGCM(key).encrypt(iv, pt, None)
    cases.append({"form": "legacy-tag", "key": key.hex(), "iv": iv.hex(), "plaintext": pt.hex(),
                  "key_material": key.hex(), "payload": sealed.hex()})

    print(json.dumps({"source": "python3-oldmemo " + oldmemo.__version__["full"], "cases": cases}, indent=1))


asyncio.run(main())
