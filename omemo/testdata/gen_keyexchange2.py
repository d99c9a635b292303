#!/usr/bin/python3
"""Produce an OMEMO 2 key exchange as a known answer.

python3-x3dh as python3-twomemo configures it runs the initiator's X3DH
against a responder's bundle; python3-twomemo encrypts a payload, its
Double Ratchet encrypts the payload's key and MAC as the first message, and
its OMEMOKeyExchange wraps that (Debian's packages; independent of gab's).
The responder reads it and answers with a normal message. A second key
exchange comes from an initiator whose identity's own Ed25519 point has
sign bit 1, sending the negated point as gab does. The randomness
(ephemeral key, ratchet keys, payload keys) is fixed so that gab, given the
same keys in the same order, must produce the key exchange byte for byte,
read it as the responder, and read the answer as the initiator. The Go
tests read only keyexchange2.json; run again only to regenerate it:

    /usr/bin/python3 omemo/testdata/gen_keyexchange2.py > omemo/testdata/keyexchange2.json
"""
import asyncio
import hashlib
import json

import twomemo
import twomemo.twomemo
import x3dh
import x3dh.base_state
import xeddsa
from doubleratchet.recommended import diffie_hellman_ratchet_curve25519
from x3dh.identity_key_pair import IdentityKeyPairPriv
from twomemo.twomemo import (AEADImpl, DoubleRatchetImpl, EncryptedKeyMaterialImpl,
                             KeyExchangeImpl, MessageChainKDFImpl, RootChainKDFImpl,
                             StateImpl, Twomemo)


def det(label, n=32):
    return hashlib.sha512(f"gab-omemo-keyexchange2-{label}".encode()).digest()[:n]


def clamp(k):
    k = bytearray(k)
    k[0] &= 248
    k[31] &= 127
    k[31] |= 64
    return bytes(k)


class FixedSecrets:
    """Stands in for the secrets module inside python3-x3dh and -twomemo."""

    def __init__(self, label, keys=clamp):
        self.label = label
        self.keys = keys
        self.n = 0

    def token_bytes(self, n):
        assert n == 32
        self.n += 1
        return self.keys(det(f"{self.label}-{self.n}"))

    def choice(self, seq):
        return sorted(seq)[0]


x3dh.base_state.secrets = FixedSecrets("x3dh")
payload_secrets = FixedSecrets("payload", bytes)  # payload keys are not clamped
twomemo.twomemo.secrets = payload_secrets
ratchet_privs = []


def generate_priv():
    k = clamp(det(f"ratchet-{len(ratchet_privs)}"))
    ratchet_privs.append(k)
    return k


DHR = diffie_hellman_ratchet_curve25519.DiffieHellmanRatchet
DHR._generate_priv = staticmethod(generate_priv)
ARGS = (DHR, RootChainKDFImpl, MessageChainKDFImpl, DoubleRatchetImpl.MESSAGE_CHAIN_CONSTANT,
        1000, 1000, AEADImpl)


def new_state(label, sign_bit=0):
    """An X3DH state whose identity's own Ed25519 point has sign_bit."""
    i = 0
    while True:
        ik = clamp(det(f"{label}-{i}"))
        if xeddsa.priv_to_ed25519_pub(ik)[31] >> 7 == sign_bit:
            break
        i += 1
    return StateImpl.create(x3dh.IdentityKeyFormat.ED_25519, x3dh.HashFunction.SHA_256,
                            StateImpl.INFO, IdentityKeyPairPriv(ik)), ik


async def vector(label, alice_sign_bit):
    """One key exchange and its answer. gab publishes its identity's
    Ed25519 form with sign bit 0 (XEdDSA's A); python3-twomemo publishes the
    key's own point. When the initiator's point has sign bit 1, the
    initiator here does what gab does: it sends A, and puts A in the
    associated data; python3-twomemo's responder must accept that."""
    alice, alice_ik = new_state(f"{label}-identity-alice", alice_sign_bit)
    bob, bob_ik = new_state(f"{label}-identity-bob")
    # XEdDSA's A: the point, or its negation, whichever has sign bit 0.
    own = xeddsa.priv_to_ed25519_pub(alice_ik)
    gab_alice_pub = own[:31] + bytes([own[31] & 0x7f])
    assert xeddsa.ed25519_pub_to_curve25519_pub(gab_alice_pub) == xeddsa.priv_to_curve25519_pub(alice_ik)
    bob.generate_pre_keys(1)
    bundle = bob.bundle
    ephemeral = x3dh.base_state.secrets.token_bytes(32)
    x3dh.base_state.secrets.n -= 1  # the next token is the ephemeral key
    sk, ad, header = await alice.get_shared_secret_active(bundle)
    assert header.ephemeral_key == xeddsa.priv_to_curve25519_pub(ephemeral)
    if alice_sign_bit:
        assert header.identity_key != gab_alice_pub and ad[:32] == header.identity_key
        header = header._replace(identity_key=gab_alice_pub)
        ad = gab_alice_pub + ad[32:]
    assert header.identity_key == gab_alice_pub

    payload = b"first message, " + det(f"{label}-plaintext", 20).hex().encode()
    content, km = await Twomemo.encrypt_plaintext(None, payload)
    _, msg = await DoubleRatchetImpl.encrypt_initial_message(*ARGS, sk, bundle.signed_pre_key,
                                                             km.key + km.auth_tag, ad)
    pre_key_id, signed_pre_key_id = 42, 7
    wire = KeyExchangeImpl(header, signed_pre_key_id, pre_key_id).serialize(msg.ciphertext)

    # The responder reads it back with python3-x3dh and python3-twomemo.
    parsed, authenticated = KeyExchangeImpl.parse(wire)
    assert authenticated == msg.ciphertext and parsed.header.identity_key == gab_alice_pub
    model = bob.model
    spk_priv = model.signed_pre_key.priv
    opk_priv = [p for p in model.pre_keys if xeddsa.priv_to_curve25519_pub(p) == header.pre_key][0]
    sk2, ad2, _ = await bob.get_shared_secret_passive(header)
    assert (sk2, ad2) == (sk, ad)
    bob_dr, got = await DoubleRatchetImpl.decrypt_initial_message(
        *ARGS, sk2, spk_priv, EncryptedKeyMaterialImpl.parse(authenticated, "", 0).encrypted_message, ad2)
    assert got == km.key + km.auth_tag

    # The responder's answer, a normal message.
    reply_content, reply_km = await Twomemo.encrypt_plaintext(None, b"the answer")
    reply = await bob_dr.encrypt_message(reply_km.key + reply_km.auth_tag, ad2)

    return {
        "name": label,
        "alice_identity_priv": alice_ik.hex(),
        "alice_identity_pub": header.identity_key.hex(),
        "alice_ephemeral_priv": ephemeral.hex(),
        "alice_ratchet_priv": ratchet_privs[-2].hex(),
        "bob_identity_priv": bob_ik.hex(),
        "bob_identity_pub": bundle.identity_key.hex(),
        "bob_signed_pre_key_priv": spk_priv.hex(),
        "bob_signed_pre_key_pub": bundle.signed_pre_key.hex(),
        "bob_signed_pre_key_sig": bundle.signed_pre_key_sig.hex(),
        "bob_signed_pre_key_id": signed_pre_key_id,
        "bob_pre_key_priv": opk_priv.hex(),
        "bob_pre_key_pub": header.pre_key.hex(),
        "bob_pre_key_id": pre_key_id,
        "bob_ratchet_priv": ratchet_privs[-1].hex(),
        "payload_key": km.key.hex(),
        "payload": payload.hex(),
        "payload_ciphertext": content.ciphertext.hex(),
        "key_exchange": wire.hex(),
        "reply_payload_key": reply_km.key.hex(),
        "reply_payload_ciphertext": reply_content.ciphertext.hex(),
        "reply": reply.ciphertext.hex(),
    }


async def main():
    vectors = [await vector("plain", 0), await vector("initiator-sign-bit-1", 1)]
    print(json.dumps({
        "source": "python3-twomemo " + twomemo.__version__["full"] + " with python3-x3dh " + x3dh.__version__["full"],
        "vectors": vectors,
    }, indent=1))


asyncio.run(main())
