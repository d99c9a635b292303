package omemo

import (
	"bytes"
	"crypto/sha256"
	"errors"
)

// x3dhInfo03 is the HKDF info of OMEMO 0.3's X3DH, as libsignal's wire
// protocol has it.
const x3dhInfo03 = "WhisperText"

var errBadSignedPreKey = errors.New("omemo: the signature of the signed pre-key does not verify")

// x3dhSecret is the KDF of the X3DH specification for X25519: HKDF-SHA-256
// over 32 bytes of 0xFF followed by the DH outputs, with a zero salt of hash
// length, giving the 32-byte shared secret SK.
func x3dhSecret(info string, dhs ...[KeySize]byte) [KeySize]byte {
	ikm := bytes.Repeat([]byte{0xff}, KeySize)
	for i := range dhs {
		ikm = append(ikm, dhs[i][:]...)
	}
	var salt [sha256.Size]byte
	var sk [KeySize]byte
	hkdfSHA256(ikm, salt[:], info, sk[:])
	return sk
}

// x3dhAssociatedData03 is AD = Encode(IK_A) || Encode(IK_B), the
// initiator's identity key first, in OMEMO 0.3's 33-byte encoding.
func x3dhAssociatedData03(initiator, responder *[KeySize]byte) []byte {
	return append(EncodePublicKey03(initiator), EncodePublicKey03(responder)...)
}

// x3dhActive03 is the initiator's side of X3DH in OMEMO 0.3, from the
// responder's bundle: it first verifies the signed pre-key's signature
// (XEdDSA by the responder's identity key over the encoded signed pre-key),
// then computes DH1 = DH(IK_A, SPK_B), DH2 = DH(EK_A, IK_B),
// DH3 = DH(EK_A, SPK_B) and, when the bundle gave a one-time pre-key,
// DH4 = DH(EK_A, OPK_B). theirPreKey may be nil.
func x3dhActive03(ourIdentity, ourEphemeral, theirIdentity, theirSignedPreKey *[KeySize]byte,
	signature []byte, theirPreKey *[KeySize]byte) (sk [KeySize]byte, ad []byte, err error) {
	if !VerifySignedPreKey03(theirIdentity, EncodePublicKey03(theirSignedPreKey), signature) {
		return sk, nil, errBadSignedPreKey
	}
	dhs, err := dhAll([][2]*[KeySize]byte{
		{ourIdentity, theirSignedPreKey},
		{ourEphemeral, theirIdentity},
		{ourEphemeral, theirSignedPreKey},
		{ourEphemeral, theirPreKey},
	})
	if err != nil {
		return sk, nil, err
	}
	ourPub := PublicKey(ourIdentity)
	return x3dhSecret(x3dhInfo03, dhs...), x3dhAssociatedData03(&ourPub, theirIdentity), nil
}

// x3dhPassive03 is the responder's side of X3DH in OMEMO 0.3, from the
// initiator's identity and ephemeral keys as its pre-key message carries
// them. ourPreKey is the private one-time pre-key the initiator used, or
// nil when it used none.
func x3dhPassive03(ourIdentity, ourSignedPreKey, ourPreKey, theirIdentity, theirEphemeral *[KeySize]byte) (sk [KeySize]byte, ad []byte, err error) {
	// X25519 ignores a key's top bit: a key with it set is another
	// encoding of the same key, which nobody sends; refused, so that a
	// pre-key message altered there is not taken as the one sent.
	if !canonicalU(theirIdentity) || !canonicalU(theirEphemeral) {
		return sk, nil, errBadPreKeyMessage
	}
	dhs, err := dhAll([][2]*[KeySize]byte{
		{ourSignedPreKey, theirIdentity},
		{ourIdentity, theirEphemeral},
		{ourSignedPreKey, theirEphemeral},
		{ourPreKey, theirEphemeral},
	})
	if err != nil {
		return sk, nil, err
	}
	ourPub := PublicKey(ourIdentity)
	return x3dhSecret(x3dhInfo03, dhs...), x3dhAssociatedData03(theirIdentity, &ourPub), nil
}

// dhAll is X3DH's Diffie-Hellman outputs, in order, of the pairs (private,
// public) given; a pair missing a key (no one-time pre-key) is left out.
func dhAll(pairs [][2]*[KeySize]byte) ([][KeySize]byte, error) {
	dhs := make([][KeySize]byte, 0, len(pairs))
	for _, p := range pairs {
		if p[0] == nil || p[1] == nil {
			continue
		}
		dh, err := DH(p[0], p[1])
		if err != nil {
			return nil, err
		}
		dhs = append(dhs, dh)
	}
	return dhs, nil
}
