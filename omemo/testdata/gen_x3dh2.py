#!/usr/bin/python3
"""Produce OMEMO 2 X3DH known answers for gab's omemo package.

Runs the key agreement of python3-x3dh as python3-twomemo configures it
(Debian; implementations independent of gab's): Ed25519 identity keys,
HKDF-SHA-256 with the info "OMEMO X3DH", the associated data being both
Ed25519 identity keys, initiator first. The randomness of the key agreement
(signed pre-key, one-time pre-keys, ephemeral key) is replaced by fixed,
clamped values. The signature on the signed pre-key keeps python3-xeddsa's
own random nonce, so that field differs on each run (any valid signature
serves).

Identity private keys are picked so that the sign bit of their Ed25519
public key is as each vector needs: gab publishes the Ed25519 form with
sign bit 0 (XEdDSA's A), while python3-twomemo publishes the key's own
Ed25519 point, whose sign bit may be 1. A vector whose initiator (or
responder) key has sign bit 1 can only be replayed on the other side by gab,
and checks that gab accepts such a peer.

The Go tests read only the JSON this writes (x3dh2.json); run again only to
regenerate it:

    /usr/bin/python3 omemo/testdata/gen_x3dh2.py > omemo/testdata/x3dh2.json
"""
import asyncio
import hashlib
import json

import twomemo
import x3dh
import x3dh.base_state
import xeddsa
from x3dh.identity_key_pair import IdentityKeyPairPriv
from twomemo.twomemo import StateImpl


def det(label):
    return hashlib.sha512(f"gab-omemo-x3dh2-{label}".encode()).digest()[:32]


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
        return clamp(det(f"token-{self.n}"))

    def choice(self, seq):
        return sorted(seq)[0]


x3dh.base_state.secrets = FixedSecrets()


def identity(label, sign_bit):
    """A clamped private key whose own Ed25519 public key has sign_bit."""
    i = 0
    while True:
        ik = clamp(det(f"identity-{label}-{i}"))
        if xeddsa.priv_to_ed25519_pub(ik)[31] >> 7 == sign_bit:
            return ik
        i += 1


def new_state(label, sign_bit):
    ik = identity(label, sign_bit)
    return StateImpl.create(x3dh.IdentityKeyFormat.ED_25519, x3dh.HashFunction.SHA_256,
                            StateImpl.INFO, IdentityKeyPairPriv(ik)), ik


async def main():
    out = []
    # (initiator's sign bit, responder's sign bit)
    for i, (sa, sb) in enumerate([(0, 0), (0, 0), (1, 0), (0, 1), (1, 1)]):
        alice, alice_ik = new_state(f"alice-{i}", sa)
        bob, bob_ik = new_state(f"bob-{i}", sb)
        bob.generate_pre_keys(3)
        bundle = bob.bundle
        ephemeral = x3dh.base_state.secrets.token_bytes(32)
        x3dh.base_state.secrets.n -= 1  # the next token is the ephemeral key
        sk, ad, header = await alice.get_shared_secret_active(bundle)
        assert header.ephemeral_key == xeddsa.priv_to_curve25519_pub(ephemeral)
        sk2, ad2, _ = await bob.get_shared_secret_passive(header)
        assert (sk, ad) == (sk2, ad2)
        model = bob.model
        spk_priv = model.signed_pre_key.priv
        opk_priv = [p for p in model.pre_keys if xeddsa.priv_to_curve25519_pub(p) == header.pre_key][0]
        assert bundle.identity_key == xeddsa.priv_to_ed25519_pub(bob_ik)
        assert xeddsa.ed25519_verify(bundle.signed_pre_key_sig, bundle.identity_key, bundle.signed_pre_key)
        out.append({
            "alice_identity_priv": alice_ik.hex(),
            "alice_identity_pub": header.identity_key.hex(),
            "alice_ephemeral_priv": ephemeral.hex(),
            "alice_ephemeral_pub": header.ephemeral_key.hex(),
            "bob_identity_priv": bob_ik.hex(),
            "bob_identity_pub": bundle.identity_key.hex(),
            "bob_signed_pre_key_priv": spk_priv.hex(),
            "bob_signed_pre_key_pub": bundle.signed_pre_key.hex(),
            "bob_signed_pre_key_sig": bundle.signed_pre_key_sig.hex(),
            "bob_pre_key_priv": opk_priv.hex(),
            "bob_pre_key_pub": header.pre_key.hex(),
            "shared_secret": sk.hex(),
            "associated_data": ad.hex(),
        })

    print(json.dumps({
        "source": "python3-x3dh " + x3dh.__version__["full"] + " as python3-twomemo "
        + twomemo.__version__["full"] + " configures it",
        "vectors": out,
    }, indent=1))


asyncio.run(main())
