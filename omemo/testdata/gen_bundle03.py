#!/usr/bin/python3
"""Produce OMEMO 0.3 bundles as python3-omemo publishes them, as known answers.

python3-oldmemo's backend makes its X3DH state with an Ed25519 identity
(from a seed, as python3-omemo does; its keys from fixed bytes, the
signature with python3-xeddsa's own randomness, so a new run gives another
valid signature) and signs the signed pre-key with plain
Ed25519 under that key; oldmemo.etree.serialize_bundle then puts the
identity key's Ed25519 sign bit in the top bit of the signature's last byte
(Debian's packages; independent of gab's). One bundle of each sign bit, with
fixed seeds. The Go tests read only bundle03.json; run again only to
regenerate it:

    /usr/bin/python3 omemo/testdata/gen_bundle03.py > omemo/testdata/bundle03.json
"""
import base64
import hashlib
import json
import xml.etree.ElementTree as ET

import oldmemo
import oldmemo.etree
import x3dh
import x3dh.base_state
import xeddsa
from oldmemo.oldmemo import BundleImpl, StateImpl

NS = "{eu.siacs.conversations.axolotl}"


def det(label):
    return hashlib.sha512(f"gab-omemo-bundle03-{label}".encode()).digest()[:32]


class FixedSecrets:
    """Stands in for the secrets module inside python3-x3dh: the signed
    pre-key and pre-keys come from fixed bytes too."""

    def __init__(self):
        self.n = 0

    def token_bytes(self, n):
        self.n += 1
        return det(f"key-{self.n}")[:n]


x3dh.base_state.secrets = FixedSecrets()


def bundle(seed):
    state = StateImpl.create(x3dh.IdentityKeyFormat.ED_25519, x3dh.HashFunction.SHA_256, StateImpl.INFO,
                             x3dh.identity_key_pair.IdentityKeyPairSeed(seed))
    state.generate_pre_keys(3)
    b = state.bundle
    ids = {pk: i + 1 for i, pk in enumerate(sorted(b.pre_keys))}
    el = oldmemo.etree.serialize_bundle(BundleImpl("peer@example.org", 1234, b, 7, ids))
    # Read back by python3-oldmemo, which checks nothing, then by its X3DH.
    back = oldmemo.etree.parse_bundle(el, "peer@example.org", 1234)
    assert back.bundle.identity_key == b.identity_key
    field = lambda name: base64.b64decode(el.find(f"{NS}{name}").text).hex()
    return {
        "ed25519_identity_key": b.identity_key.hex(),
        "sign_bit": b.identity_key[31] >> 7,
        "identity_key": field("identityKey"),
        "signed_pre_key": field("signedPreKeyPublic"),
        "signed_pre_key_id": int(el.find(f"{NS}signedPreKeyPublic").get("signedPreKeyId")),
        "signed_pre_key_signature": field("signedPreKeySignature"),
        "pre_keys": [{"id": int(p.get("preKeyId")), "key": base64.b64decode(p.text).hex()}
                     for p in el.iter(f"{NS}preKeyPublic")],
    }


out, want = [], [0, 1]
n = 0
while want:
    seed = det(n)
    n += 1
    bit = xeddsa.seed_to_ed25519_pub(seed)[31] >> 7
    if bit in want:
        want.remove(bit)
        out.append(bundle(seed))
print(json.dumps({"source": "python3-oldmemo " + oldmemo.__version__["full"], "bundles": out}, indent=1))
