#!/usr/bin/python3
"""Produce an OMEMO 0.3 Double Ratchet conversation as known answers.

Two sessions of python3-oldmemo's Double Ratchet (on python3-doubleratchet,
Debian; independent of gab's) talk to each other after X3DH: messages both
ways, several turns of the DH ratchet, messages delivered out of order. Its
randomness (the ratchet key pairs) is fixed, so gab's session, given the
same keys in the same order, must produce every message byte for byte and
decrypt every one. The Go tests read only the JSON this writes
(conversation03.json); run again only to regenerate it:

    /usr/bin/python3 omemo/testdata/gen_conversation03.py > omemo/testdata/conversation03.json
"""
import asyncio
import hashlib
import json

import oldmemo
import xeddsa
from doubleratchet.recommended import diffie_hellman_ratchet_curve25519
from oldmemo.oldmemo import (AEADImpl, DoubleRatchetImpl, MessageChainKDFImpl,
                             RootChainKDFImpl, StateImpl)


def det(label, i, n):
    out = b""
    c = 0
    while len(out) < n:
        out += hashlib.sha512(f"gab-omemo-conv03-{label}-{i}-{c}".encode()).digest()
        c += 1
    return out[:n]


def clamp(k):
    k = bytearray(k)
    k[0] &= 248
    k[31] &= 127
    k[31] |= 64
    return bytes(k)


# Every ratchet private key either side generates, in the order generated.
generated = []


def generate_priv():
    k = clamp(det("ratchet", len(generated), 32))
    generated.append(k)
    return k


DHR = diffie_hellman_ratchet_curve25519.DiffieHellmanRatchet
DHR._generate_priv = staticmethod(generate_priv)

# (who, action, name): "send" makes message name, "recv" delivers it.
SCRIPT = [
    ("a", "send", "a0"), ("a", "send", "a1"), ("a", "send", "a2"),
    ("b", "recv", "a2"), ("b", "recv", "a0"),
    ("b", "send", "b0"), ("b", "send", "b1"),
    ("a", "recv", "b1"),
    ("a", "send", "a3"), ("a", "send", "a4"),
    ("b", "recv", "a4"), ("b", "recv", "a1"), ("b", "recv", "a3"),
    ("a", "recv", "b0"),
    ("b", "send", "b2"), ("a", "recv", "b2"),
    ("a", "send", "a5"), ("b", "recv", "a5"),
    ("b", "send", "b3"), ("b", "send", "b4"), ("a", "recv", "b4"), ("a", "recv", "b3"),
]


async def main():
    sk = det("sk", 0, 32)
    ik_a = xeddsa.priv_to_curve25519_pub(clamp(det("ika", 0, 32)))
    ik_b = xeddsa.priv_to_curve25519_pub(clamp(det("ikb", 0, 32)))
    ad = StateImpl.serialize_public_key(ik_a) + StateImpl.serialize_public_key(ik_b)
    # As python3-oldmemo's backend (and libsignal) MAC a message: the
    # sender's identity key first, then the recipient's.
    ad_from = {"a": ad, "b": ad[33:] + ad[:33]}
    spk = clamp(det("spk", 0, 32))
    spk_pub = xeddsa.priv_to_curve25519_pub(spk)
    args = (DHR, RootChainKDFImpl, MessageChainKDFImpl, DoubleRatchetImpl.MESSAGE_CHAIN_CONSTANT,
            1000, 1000, AEADImpl)
    sessions = {}
    messages = {}
    events = []
    for who, action, name in SCRIPT:
        if action == "send":
            pt = f"{name}: " .encode() + det("pt", name, len(name) * 7)
            if who not in sessions:
                sessions[who], msg = await DoubleRatchetImpl.encrypt_initial_message(
                    *args, sk, spk_pub, pt, ad_from[who])
            else:
                msg = await sessions[who].encrypt_message(pt, ad_from[who])
            messages[name] = (msg, pt)
            events.append({"who": who, "action": "send", "plaintext": pt.hex(),
                           "message": msg.ciphertext.hex()})
        else:
            msg, pt = messages[name]
            if who not in sessions:
                sessions[who], got = await DoubleRatchetImpl.decrypt_initial_message(
                    *args, sk, spk, msg, ad_from["a"])
            else:
                got = await sessions[who].decrypt_message(msg, ad_from["b" if who == "a" else "a"])
            assert got == pt
            events.append({"who": who, "action": "recv", "plaintext": pt.hex(),
                           "message": msg.ciphertext.hex()})
    print(json.dumps({
        "source": "python3-oldmemo " + oldmemo.__version__["full"],
        "shared_secret": sk.hex(),
        "associated_data": ad.hex(),
        "signed_pre_key_priv": spk.hex(),
        "ratchet_privs": [k.hex() for k in generated],
        "events": events,
    }, indent=1))


asyncio.run(main())
