package omemo

import (
	"crypto/subtle"
	"errors"

	"filippo.io/edwards25519"
	"filippo.io/edwards25519/field"
)

// x3dhInfo2 is the HKDF info of OMEMO 2's X3DH (XEP-0384).
const x3dhInfo2 = "OMEMO X3DH"

var (
	errBadIdentityKey2 = errors.New("omemo: the identity key is not a usable Ed25519 public key")
	errNoPreKey2       = errors.New("omemo: OMEMO 2 sessions need a one-time pre-key")
	errBadEphemeral2   = errors.New("omemo: the ephemeral key is not a canonical X25519 public key")
)

// IdentityKey2 is the identity public key OMEMO 2 publishes for our
// identity private key (an X25519 private key): its Ed25519 form with sign
// bit 0, XEdDSA's A, under which our XEdDSA signatures verify as Ed25519
// signatures. Its Montgomery form is PublicKey(priv), what OMEMO 0.3
// publishes.
func IdentityKey2(priv *[KeySize]byte) [KeySize]byte {
	A, _ := calculateKeyPair(priv)
	return A
}

// identityMontgomery2 checks an identity key as OMEMO 2 publishes it (an
// encoded Ed25519 point) and returns its Montgomery form for X25519. It
// refuses an encoding that is not a point, or not the point's canonical
// encoding, and points of small order.
func identityMontgomery2(ed *[KeySize]byte) ([KeySize]byte, error) {
	P, err := new(edwards25519.Point).SetBytes(ed[:])
	if err != nil || subtle.ConstantTimeCompare(P.Bytes(), ed[:]) != 1 {
		return [KeySize]byte{}, errBadIdentityKey2
	}
	u, err := EdwardsToMontgomery(ed)
	if err != nil {
		return [KeySize]byte{}, errBadIdentityKey2
	}
	return u, nil
}

// canonicalU reports whether u is the canonical encoding of a Montgomery u
// coordinate: below p, so its top bit is clear. X25519 would ignore the
// top bit and reduce the rest, so other encodings name the same key.
func canonicalU(u *[KeySize]byte) bool {
	e, err := new(field.Element).SetBytes(u[:])
	return err == nil && subtle.ConstantTimeCompare(e.Bytes(), u[:]) == 1
}

// x3dhAssociatedData2 is AD = IK_A || IK_B, the initiator's Ed25519
// identity key first.
func x3dhAssociatedData2(initiator, responder *[KeySize]byte) []byte {
	return append(append(make([]byte, 0, adSize2), initiator[:]...), responder[:]...)
}

// x3dhActive2 is the initiator's side of X3DH in OMEMO 2, from the
// responder's bundle: it first checks the identity key and verifies the
// signed pre-key's signature (Ed25519 by the identity key over the 32
// bytes of the signed pre-key, as XEdDSA makes it), then computes
// DH1 = DH(IK_A, SPK_B), DH2 = DH(EK_A, IK_B), DH3 = DH(EK_A, SPK_B) and
// DH4 = DH(EK_A, OPK_B), the identity key in its Montgomery form. OMEMO 2
// always uses a one-time pre-key.
func x3dhActive2(ourIdentity, ourEphemeral, theirIdentity, theirSignedPreKey *[KeySize]byte,
	signature []byte, theirPreKey *[KeySize]byte) (sk [KeySize]byte, ad []byte, err error) {
	theirIK, err := identityMontgomery2(theirIdentity)
	if err != nil {
		return sk, nil, err
	}
	if !verifyEdwards(theirIdentity, theirSignedPreKey[:], signature) {
		return sk, nil, errBadSignedPreKey
	}
	if theirPreKey == nil {
		return sk, nil, errNoPreKey2
	}
	dhs, err := dhAll([][2]*[KeySize]byte{
		{ourIdentity, theirSignedPreKey},
		{ourEphemeral, &theirIK},
		{ourEphemeral, theirSignedPreKey},
		{ourEphemeral, theirPreKey},
	})
	if err != nil {
		return sk, nil, err
	}
	ourPub := IdentityKey2(ourIdentity)
	return x3dhSecret(x3dhInfo2, dhs...), x3dhAssociatedData2(&ourPub, theirIdentity), nil
}

// x3dhPassive2 is the responder's side of X3DH in OMEMO 2, from the
// initiator's Ed25519 identity key and ephemeral key as its key exchange
// carries them, with our private one-time pre-key the initiator used. The
// ephemeral key is neither signed nor authenticated by the first message's
// MAC, so it must be in its one canonical encoding: a key exchange
// changed in transit then never builds a session.
func x3dhPassive2(ourIdentity, ourSignedPreKey, ourPreKey, theirIdentity, theirEphemeral *[KeySize]byte) (sk [KeySize]byte, ad []byte, err error) {
	theirIK, err := identityMontgomery2(theirIdentity)
	if err != nil {
		return sk, nil, err
	}
	if !canonicalU(theirEphemeral) {
		return sk, nil, errBadEphemeral2
	}
	if ourPreKey == nil {
		return sk, nil, errNoPreKey2
	}
	dhs, err := dhAll([][2]*[KeySize]byte{
		{ourSignedPreKey, &theirIK},
		{ourIdentity, theirEphemeral},
		{ourSignedPreKey, theirEphemeral},
		{ourPreKey, theirEphemeral},
	})
	if err != nil {
		return sk, nil, err
	}
	ourPub := IdentityKey2(ourIdentity)
	return x3dhSecret(x3dhInfo2, dhs...), x3dhAssociatedData2(theirIdentity, &ourPub), nil
}
