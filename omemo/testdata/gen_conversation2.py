#!/usr/bin/python3
"""Produce an OMEMO 2 Double Ratchet conversation as known answers.

Two sessions of python3-twomemo's Double Ratchet (on python3-doubleratchet,
Debian; independent of gab's) talk to each other after X3DH: messages both
ways, several turns of the DH ratchet, messages delivered out of order. Its
randomness (the ratchet key pairs) is fixed, so gab's session, given the
same keys in the same order, must produce every OMEMOAuthenticatedMessage
byte for byte and decrypt every one. The Go tests read only the JSON this
writes (conversation2.json); run again only to regenerate it:

    /usr/bin/python3 omemo/testdata/gen_conversation2.py > omemo/testdata/conversation2.json
"""
import asyncio
import hashlib
import json

import twomemo
import xeddsa
from doubleratchet.recommended import diffie_hellman_ratchet_curve25519
from twomemo.twomemo import (AEADImpl, DoubleRatchetImpl, MessageChainKDFImpl,
                             RootChainKDFImpl)


def det(label, i, n):
    out = b""
    c = 0
    while len(out) < n:
        out += hashlib.sha512(f"gab-omemo-conv2-{label}-{i}-{c}".encode()).digest()
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
    ("a", "send", "a6"), ("a", "send", "a7"), ("a", "send", "a8"),
    ("b", "recv", "a8"), ("b", "send", "b5"), ("a", "recv", "b5"),
    ("b", "recv", "a6"), ("b", "recv", "a7"),
]


async def main():
    sk = det("sk", 0, 32)
    ik_a = xeddsa.priv_to_ed25519_pub(clamp(det("ika", 0, 32)))
    ik_b = xeddsa.priv_to_ed25519_pub(clamp(det("ikb", 0, 32)))
    ad = ik_a + ik_b
    spk = clamp(det("spk", 0, 32))
    spk_pub = xeddsa.priv_to_curve25519_pub(spk)
    args = (DHR, RootChainKDFImpl, MessageChainKDFImpl, DoubleRatchetImpl.MESSAGE_CHAIN_CONSTANT,
            1000, 1000, AEADImpl)
    sessions = {}
    messages = {}
    events = []
    for who, action, name in SCRIPT:
        if action == "send":
            # 48 bytes is what OMEMO 2 sends through a session (key and
            # MAC of the payload); other sizes check the padding.
            pt = det("pt", name, 48 if name[1] in "02468" else len(name) * 9)
            if who not in sessions:
                sessions[who], msg = await DoubleRatchetImpl.encrypt_initial_message(
                    *args, sk, spk_pub, pt, ad)
            else:
                msg = await sessions[who].encrypt_message(pt, ad)
            messages[name] = (msg, pt)
            events.append({"who": who, "action": "send", "plaintext": pt.hex(),
                           "message": msg.ciphertext.hex()})
        else:
            msg, pt = messages[name]
            if who not in sessions:
                sessions[who], got = await DoubleRatchetImpl.decrypt_initial_message(
                    *args, sk, spk, msg, ad)
            else:
                got = await sessions[who].decrypt_message(msg, ad)
            assert got == pt
            events.append({"who": who, "action": "recv", "plaintext": pt.hex(),
                           "message": msg.ciphertext.hex()})
    print(json.dumps({
        "source": "python3-twomemo " + twomemo.__version__["full"],
        "shared_secret": sk.hex(),
        "associated_data": ad.hex(),
        "signed_pre_key_priv": spk.hex(),
        "ratchet_privs": [k.hex() for k in generated],
        "events": events,
    }, indent=1))


asyncio.run(main())
