#!/usr/bin/python3
"""Produce XEdDSA known-answer vectors for gab's omemo package.

Uses python3-xeddsa (Debian), an implementation independent of gab's, to
compute keys and signatures from fixed inputs. The Go tests read only the
JSON this writes (xeddsa.json); run again only to regenerate it:

    /usr/bin/python3 omemo/testdata/gen_xeddsa.py > omemo/testdata/xeddsa.json
"""
import hashlib
import json

import xeddsa


def det(label, i, n):
    """n deterministic bytes from a label and an index (SHA-512 counter)."""
    out = b""
    c = 0
    while len(out) < n:
        out += hashlib.sha512(f"gab-omemo-{label}-{i}-{c}".encode()).digest()
        c += 1
    return out[:n]


Q = 2**252 + 27742317777372353535851937790883648493  # order of the base point


def reduce(k):
    """k (mod q), 32 bytes little-endian."""
    return (int.from_bytes(k, "little") % Q).to_bytes(32, "little")


def clamp(k):
    k = bytearray(k)
    k[0] &= 248
    k[31] &= 127
    k[31] |= 64
    return bytes(k)


vectors = []
want_sign = {0: 0, 1: 0}
i = 0
while len(vectors) < 16:
    priv = clamp(det("priv", i, 32))
    msg = det("msg", i, i * 7 % 97)
    z = det("z", i, 64)
    curve_pub = xeddsa.priv_to_curve25519_pub(priv)
    ed0 = xeddsa.curve25519_pub_to_ed25519_pub(curve_pub, False)
    ed1 = xeddsa.curve25519_pub_to_ed25519_pub(curve_pub, True)
    ed_pub = xeddsa.priv_to_ed25519_pub(priv)
    sign_bit = ed_pub[31] >> 7
    i += 1
    # Keep both kinds of key: Edwards sign bit set and clear.
    if want_sign[sign_bit] >= 8:
        continue
    want_sign[sign_bit] += 1
    # XEdDSA signs with a, the private key negated where needed so that the
    # Edwards public key has sign bit 0, reduced mod q (calculate_key_pair).
    # libxeddsa leaves the negation to the caller (priv_force_sign) and does
    # not reduce a key it does not negate; the 32 bytes of a go into the
    # nonce hash, so it is given the reduced a here, as the specification
    # has it.
    priv0 = xeddsa.priv_force_sign(priv, False)
    a = reduce(priv0)
    sig = xeddsa.ed25519_priv_sign(a, msg, z)
    # libxeddsa's own XEdDSA (unreduced a in the nonce hash): a different
    # but equally valid signature.
    sig_unreduced = xeddsa.ed25519_priv_sign(priv0, msg, z)
    assert xeddsa.ed25519_verify(sig_unreduced, ed0, msg)
    # Signed without that step: valid Ed25519 under ed_pub, but not XEdDSA
    # when ed_pub has its sign bit set.
    sig_unforced = xeddsa.ed25519_priv_sign(priv, msg, z)
    assert xeddsa.ed25519_verify(sig, ed0, msg)
    assert xeddsa.ed25519_pub_to_curve25519_pub(ed_pub) == curve_pub
    assert xeddsa.ed25519_verify(sig_unforced, ed_pub, msg)
    vectors.append({
        "priv": priv.hex(),
        "curve_pub": curve_pub.hex(),
        "ed_pub": ed_pub.hex(),
        "ed_pub_sign0": ed0.hex(),
        "ed_pub_sign1": ed1.hex(),
        "a": a.hex(),
        "msg": msg.hex(),
        "z": z.hex(),
        "sig": sig.hex(),
        "sig_unforced": sig_unforced.hex(),
        "sig_unreduced": sig_unreduced.hex(),
    })

print(json.dumps({
    "source": "python3-xeddsa " + xeddsa.__version__["full"],
    "vectors": vectors,
}, indent=1))
