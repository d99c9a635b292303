#!/usr/bin/python3
"""Produce OMEMO 0.3 X3DH known answers for gab's omemo package.

Runs the key agreement of python3-x3dh as python3-oldmemo configures it
(Debian; implementations independent of gab's), with Curve25519 identity
keys as OMEMO 0.3 has them, and with the randomness of the key agreement
replaced by fixed, clamped values so that the results can be recomputed.
The signed pre-key's signature keeps python3-xeddsa's own random nonce, so
that one field differs on each run (any valid signature serves).
The Go tests read only the JSON this writes (x3dh.json); run again only to
regenerate it:

    /usr/bin/python3 omemo/testdata/gen_x3dh.py > omemo/testdata/x3dh.json
"""
import asyncio
import hashlib
import json

import x3dh
import x3dh.base_state
import xeddsa
from x3dh.identity_key_pair import IdentityKeyPairPriv
from oldmemo.oldmemo import StateImpl


def clamp(k):
    k = bytearray(k)
    k[0] &= 248
    k[31] &= 127
    k[31] |= 64
    return bytes(k)


class FixedSecrets:
    """Stands in for the secrets module inside python3-x3dh."""

    def __init__(self):
        self.n = 0

    def token_bytes(self, n):
        assert n == 32
        self.n += 1
        return clamp(hashlib.sha512(f"gab-omemo-x3dh-{self.n}".encode()).digest()[:32])

    def choice(self, seq):
        return sorted(seq)[0]


x3dh.base_state.secrets = FixedSecrets()


def new_state(i):
    ik = clamp(hashlib.sha512(f"gab-omemo-x3dh-identity-{i}".encode()).digest()[:32])
    return StateImpl.create(
        x3dh.IdentityKeyFormat.CURVE_25519,
        x3dh.HashFunction.SHA_256,
        StateImpl.INFO,
        IdentityKeyPairPriv(ik),
    ), ik


async def main():
    out = []
    for i, with_pre_key in enumerate([True, False, True, False]):
        alice, alice_ik = new_state(2 * i)
        bob, bob_ik = new_state(2 * i + 1)
        bob.generate_pre_keys(2)
        bundle = bob.bundle
        if not with_pre_key:
            bundle = bundle._replace(pre_keys=frozenset())
        ephemeral = x3dh.base_state.secrets.token_bytes(32)
        x3dh.base_state.secrets.n -= 1  # the next token is the ephemeral key
        sk, ad, header = await alice.get_shared_secret_active(bundle, require_pre_key=False)
        assert header.ephemeral_key == xeddsa.priv_to_curve25519_pub(ephemeral)
        sk2, ad2, _ = await bob.get_shared_secret_passive(header, require_pre_key=False)
        assert (sk, ad) == (sk2, ad2)
        model = bob.model
        spk_priv = model.signed_pre_key.priv
        assert xeddsa.priv_to_curve25519_pub(spk_priv) == bundle.signed_pre_key
        opk_priv = b""
        for p in model.pre_keys:
            if xeddsa.priv_to_curve25519_pub(p) == header.pre_key:
                opk_priv = p
        out.append({
            "alice_identity_priv": alice_ik.hex(),
            "alice_identity_pub": xeddsa.priv_to_curve25519_pub(alice_ik).hex(),
            "alice_ephemeral_priv": ephemeral.hex(),
            "alice_ephemeral_pub": header.ephemeral_key.hex(),
            "bob_identity_priv": bob_ik.hex(),
            "bob_identity_pub": bundle.identity_key.hex(),
            "bob_signed_pre_key_priv": spk_priv.hex(),
            "bob_signed_pre_key_pub": bundle.signed_pre_key.hex(),
            "bob_signed_pre_key_sig": bundle.signed_pre_key_sig.hex(),
            "bob_pre_key_priv": opk_priv.hex(),
            "bob_pre_key_pub": (header.pre_key or b"").hex(),
            "shared_secret": sk.hex(),
            "associated_data": ad.hex(),
        })

    print(json.dumps({
        "source": "python3-x3dh " + x3dh.__version__["full"] + " as python3-oldmemo configures it",
        "vectors": out,
    }, indent=1))


asyncio.run(main())
