#!/usr/bin/python3
"""Produce OMEMO 0.3 key-encoding and Double Ratchet KDF known answers, and
the Double Ratchet KDF known answers of OMEMO 2.

Uses python3-oldmemo (0.3), python3-twomemo (OMEMO 2) and
python3-doubleratchet (Debian), implementations independent of gab's, with
python3-xeddsa for X25519. The Go tests read
only the JSON this writes (ratchet.json); run again only to regenerate it:

    /usr/bin/python3 omemo/testdata/gen_ratchet.py > omemo/testdata/ratchet.json
"""
import asyncio
import hashlib
import json

import doubleratchet
import oldmemo
import oldmemo.oldmemo
import twomemo
import twomemo.twomemo
import xeddsa
from doubleratchet.kdf_chain import KDFChain
from oldmemo.oldmemo import StateImpl


def det(label, i, n):
    """n deterministic bytes from a label and an index (SHA-512 counter)."""
    out = b""
    c = 0
    while len(out) < n:
        out += hashlib.sha512(f"gab-omemo-{label}-{i}-{c}".encode()).digest()
        c += 1
    return out[:n]


def clamp(k):
    k = bytearray(k)
    k[0] &= 248
    k[31] &= 127
    k[31] |= 64
    return bytes(k)


async def chains(m, label):
    """Root and message chain steps of one OMEMO version's module m."""
    # Root chain: each step takes the DH output of a new ratchet key pair.
    root = []
    rk = det(label + "root", 0, 32)
    chain = KDFChain.create(m.RootChainKDFImpl, rk)
    for i in range(4):
        ours = clamp(det(label + "dh-ours", i, 32))
        theirs = clamp(det(label + "dh-theirs", i, 32))
        their_pub = xeddsa.priv_to_curve25519_pub(theirs)
        dh = xeddsa.x25519(ours, their_pub)
        assert dh == xeddsa.x25519(theirs, xeddsa.priv_to_curve25519_pub(ours))
        ck = await chain.step(dh, 32)
        root.append({
            "root_key": rk.hex(),
            "our_priv": ours.hex(),
            "their_pub": their_pub.hex(),
            "dh": dh.hex(),
            "next_root_key": chain.model.key.hex(),
            "chain_key": ck.hex(),
        })
        rk = chain.model.key

    # Message chain: the constant b"\x02\x01" gives the next chain key
    # (HMAC with 0x02) then the message key (HMAC with 0x01).
    ck = det(label + "chain", 0, 32)
    msgchain = KDFChain.create(m.MessageChainKDFImpl, ck)
    steps = []
    for i in range(5):
        mk = await msgchain.step(m.DoubleRatchetImpl.MESSAGE_CHAIN_CONSTANT, 32)
        derive = getattr(m.AEADImpl, "_AEADImpl__derive")
        enc_key, auth_key, iv = await derive(mk, m.AEADImpl._get_hash_function(), m.AEADImpl._get_info())
        steps.append({
            "message_key": mk.hex(),
            "next_chain_key": msgchain.model.key.hex(),
            "aes_key": enc_key.hex(),
            "mac_key": auth_key.hex(),
            "iv": iv.hex(),
        })
    return root, {"chain_key": ck.hex(), "steps": steps}


async def main():
    keys = []
    for i in range(4):
        pub = xeddsa.priv_to_curve25519_pub(clamp(det("enc", i, 32)))
        enc = StateImpl.serialize_public_key(pub)
        assert StateImpl.parse_public_key(enc) == pub
        keys.append({"pub": pub.hex(), "encoded": enc.hex()})

    root, message = await chains(oldmemo.oldmemo, "")
    root2, message2 = await chains(twomemo.twomemo, "2-")

    print(json.dumps({
        "source": "python3-oldmemo " + oldmemo.__version__["full"]
        + ", python3-twomemo " + twomemo.__version__["full"]
        + ", python3-doubleratchet " + doubleratchet.__version__["full"]
        + ", python3-xeddsa " + xeddsa.__version__["full"],
        "key_encoding": keys,
        "root_chain": root,
        "message_chain": message,
        "omemo2_root_chain": root2,
        "omemo2_message_chain": message2,
    }, indent=1))


asyncio.run(main())
