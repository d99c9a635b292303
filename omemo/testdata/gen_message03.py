#!/usr/bin/python3
"""Produce OMEMO 0.3 message-encryption known answers for gab's omemo package.

Encrypts with python3-oldmemo's AEAD (Debian; independent of gab's) under
fixed message keys, identity keys and headers, so that gab's message
format (version byte, protobuf OMEMOMessage, truncated HMAC) and its
AES-256-CBC encryption can be compared byte for byte. The Go tests read
only the JSON this writes (message03.json); run again only to regenerate it:

    /usr/bin/python3 omemo/testdata/gen_message03.py > omemo/testdata/message03.json
"""
import asyncio
import hashlib
import json

import doubleratchet
import oldmemo
import xeddsa
from oldmemo.oldmemo import AEADImpl, DoubleRatchetImpl, StateImpl


def det(label, i, n):
    out = b""
    c = 0
    while len(out) < n:
        out += hashlib.sha512(f"gab-omemo-msg03-{label}-{i}-{c}".encode()).digest()
        c += 1
    return out[:n]


async def main():
    out = []
    cases = [(0, 0, b""), (1, 0, b"hello"), (300, 17, b"x" * 16), (2**31, 2**32 - 1, det("pt", 3, 100))]
    for i, (n, pn, plaintext) in enumerate(cases):
        mk = det("mk", i, 32)
        ik_a = xeddsa.priv_to_curve25519_pub(det("ika", i, 32))
        ik_b = xeddsa.priv_to_curve25519_pub(det("ikb", i, 32))
        ratchet_pub = xeddsa.priv_to_curve25519_pub(det("rk", i, 32))
        ad = StateImpl.serialize_public_key(ik_a) + StateImpl.serialize_public_key(ik_b)
        header = doubleratchet.Header(ratchet_pub, pn, n)
        full_ad = DoubleRatchetImpl._build_associated_data(ad, header)
        msg = await AEADImpl.encrypt(plaintext, mk, full_ad)
        assert await AEADImpl.decrypt(msg, mk, full_ad) == plaintext
        out.append({
            "message_key": mk.hex(),
            "associated_data": ad.hex(),
            "ratchet_pub": ratchet_pub.hex(),
            "n": n,
            "pn": pn,
            "plaintext": plaintext.hex(),
            "message": msg.hex(),
        })
    print(json.dumps({
        "source": "python3-oldmemo " + oldmemo.__version__["full"],
        "vectors": out,
    }, indent=1))


asyncio.run(main())
