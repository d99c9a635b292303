#!/usr/bin/python3
"""Produce an OMEMO 0.3 pre-key message as a known answer.

python3-x3dh as python3-oldmemo configures it runs the initiator's X3DH
against a responder's bundle, python3-oldmemo's Double Ratchet encrypts the
first message, and python3-oldmemo's own OMEMOKeyExchange protobuf wraps it
after the version byte 0x33 (Debian's packages; independent of gab's). The
randomness (ephemeral key, first ratchet key) is fixed so that gab, given
the same keys in the same order, must produce the pre-key message byte for
byte, and the responder must read it. The responder side is run here too,
to check the answer. The Go tests read only prekey03.json; run again only
to regenerate it:

    /usr/bin/python3 omemo/testdata/gen_prekey03.py > omemo/testdata/prekey03.json
"""
import asyncio
import hashlib
import json

import oldmemo
import x3dh
import x3dh.base_state
import xeddsa
from doubleratchet.recommended import diffie_hellman_ratchet_curve25519
from x3dh.identity_key_pair import IdentityKeyPairPriv
from oldmemo.oldmemo import (AEADImpl, DoubleRatchetImpl, MessageChainKDFImpl,
                             RootChainKDFImpl, StateImpl)
from oldmemo.oldmemo_pb2 import OMEMOKeyExchange


def det(label, n=32):
    return hashlib.sha512(f"gab-omemo-prekey03-{label}".encode()).digest()[:n]


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
        return clamp(det(f"x3dh-{self.n}"))

    def choice(self, seq):
        return sorted(seq)[0]


x3dh.base_state.secrets = FixedSecrets()
ratchet_privs = []


def generate_priv():
    k = clamp(det(f"ratchet-{len(ratchet_privs)}"))
    ratchet_privs.append(k)
    return k


DHR = diffie_hellman_ratchet_curve25519.DiffieHellmanRatchet
DHR._generate_priv = staticmethod(generate_priv)
ARGS = (DHR, RootChainKDFImpl, MessageChainKDFImpl, DoubleRatchetImpl.MESSAGE_CHAIN_CONSTANT,
        1000, 1000, AEADImpl)


def new_state(label):
    ik = clamp(det(label))
    return StateImpl.create(x3dh.IdentityKeyFormat.CURVE_25519, x3dh.HashFunction.SHA_256,
                            StateImpl.INFO, IdentityKeyPairPriv(ik)), ik


async def main():
    alice, alice_ik = new_state("identity-alice")
    bob, bob_ik = new_state("identity-bob")
    bob.generate_pre_keys(1)
    bundle = bob.bundle
    ephemeral = x3dh.base_state.secrets.token_bytes(32)
    x3dh.base_state.secrets.n -= 1  # the next token is the ephemeral key
    sk, ad, header = await alice.get_shared_secret_active(bundle)
    assert header.ephemeral_key == xeddsa.priv_to_curve25519_pub(ephemeral)
    pt = b"first message, " + det("plaintext", 20).hex().encode()
    _, msg = await DoubleRatchetImpl.encrypt_initial_message(*ARGS, sk, bundle.signed_pre_key, pt, ad)
    pre_key_id, signed_pre_key_id = 42, 7
    wire = b"\x33" + OMEMOKeyExchange(
        pk_id=pre_key_id, spk_id=signed_pre_key_id,
        ik=StateImpl.serialize_public_key(xeddsa.priv_to_curve25519_pub(alice_ik)),
        ek=StateImpl.serialize_public_key(header.ephemeral_key),
        message=msg.ciphertext,
    ).SerializeToString()

    # The responder reads it back with python3-x3dh and python3-oldmemo.
    model = bob.model
    spk_priv = model.signed_pre_key.priv
    opk_priv = [p for p in model.pre_keys if xeddsa.priv_to_curve25519_pub(p) == header.pre_key][0]
    sk2, ad2, _ = await bob.get_shared_secret_passive(header)
    assert (sk2, ad2) == (sk, ad)
    _, got = await DoubleRatchetImpl.decrypt_initial_message(*ARGS, sk2, spk_priv, msg, ad2)
    assert got == pt

    print(json.dumps({
        "source": "python3-oldmemo " + oldmemo.__version__["full"] + " with python3-x3dh " + x3dh.__version__["full"],
        "alice_identity_priv": alice_ik.hex(),
        "alice_ephemeral_priv": ephemeral.hex(),
        "alice_ratchet_priv": ratchet_privs[0].hex(),
        "bob_identity_priv": bob_ik.hex(),
        "bob_identity_pub": bundle.identity_key.hex(),
        "bob_signed_pre_key_priv": spk_priv.hex(),
        "bob_signed_pre_key_pub": bundle.signed_pre_key.hex(),
        "bob_signed_pre_key_sig": bundle.signed_pre_key_sig.hex(),
        "bob_signed_pre_key_id": signed_pre_key_id,
        "bob_pre_key_priv": opk_priv.hex(),
        "bob_pre_key_pub": header.pre_key.hex(),
        "bob_pre_key_id": pre_key_id,
        "plaintext": pt.hex(),
        "pre_key_message": wire.hex(),
    }, indent=1))


asyncio.run(main())
