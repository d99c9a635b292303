package omemo

import (
	"crypto/rand"
	"crypto/sha512"
	"crypto/subtle"
	"errors"

	"filippo.io/edwards25519"
	"filippo.io/edwards25519/field"
	"golang.org/x/crypto/curve25519"
)

// Sizes of the keys and signatures XEdDSA works with.
const (
	KeySize       = 32 // an X25519 private key, or a Montgomery u or Edwards point encoding
	SignatureSize = 64 // R || s
	randomSize    = 64 // Z, the signing randomness
)

var errBadPoint = errors.New("omemo: not a valid curve point")

// PublicKey returns the X25519 (Montgomery u) public key of an X25519
// private key. The private key is clamped as X25519 does.
func PublicKey(priv *[KeySize]byte) [KeySize]byte {
	var pub [KeySize]byte
	out, err := curve25519.X25519(priv[:], curve25519.Basepoint)
	if err != nil {
		// X25519 with the base point never yields the all-zero output.
		panic("omemo: X25519 with the base point failed: " + err.Error())
	}
	copy(pub[:], out)
	return pub
}

// calculateKeyPair is calculate_key_pair of the XEdDSA specification: the
// Edwards public key A with sign bit 0 for the Montgomery private key k, and
// the private scalar a that goes with it (k or -k mod q).
func calculateKeyPair(priv *[KeySize]byte) (A [KeySize]byte, a *edwards25519.Scalar) {
	k, err := edwards25519.NewScalar().SetBytesWithClamping(priv[:])
	if err != nil {
		panic("omemo: clamping a 32-byte key failed: " + err.Error())
	}
	E := new(edwards25519.Point).ScalarBaseMult(k)
	copy(A[:], E.Bytes())
	if A[31]&0x80 != 0 {
		k.Negate(k)
		A[31] &^= 0x80
	}
	return A, k
}

// hash1Prefix is the 32-byte little-endian encoding of 2^256 - 1 - 1, the
// domain separation of hash_1 in the XEdDSA specification.
var hash1Prefix = func() [32]byte {
	var p [32]byte
	for i := range p {
		p[i] = 0xff
	}
	p[0] = 0xfe
	return p
}()

// Sign makes an XEdDSA signature of msg with an X25519 private key, with
// fresh randomness from crypto/rand.
func Sign(priv *[KeySize]byte, msg []byte) ([SignatureSize]byte, error) {
	var z [randomSize]byte
	if _, err := rand.Read(z[:]); err != nil {
		return [SignatureSize]byte{}, err
	}
	return signWithRandom(priv, msg, &z), nil
}

// signWithRandom is xeddsa_sign(k, M, Z) of the specification with the
// randomness Z given, so that tests can compare with known answers.
func signWithRandom(priv *[KeySize]byte, msg []byte, z *[randomSize]byte) [SignatureSize]byte {
	A, a := calculateKeyPair(priv)

	h := sha512.New()
	h.Write(hash1Prefix[:])
	h.Write(a.Bytes())
	h.Write(msg)
	h.Write(z[:])
	r, err := edwards25519.NewScalar().SetUniformBytes(h.Sum(nil))
	if err != nil {
		panic("omemo: reducing a SHA-512 output failed: " + err.Error())
	}
	R := new(edwards25519.Point).ScalarBaseMult(r)
	Rb := R.Bytes()

	h.Reset()
	h.Write(Rb)
	h.Write(A[:])
	h.Write(msg)
	hs, err := edwards25519.NewScalar().SetUniformBytes(h.Sum(nil))
	if err != nil {
		panic("omemo: reducing a SHA-512 output failed: " + err.Error())
	}
	s := edwards25519.NewScalar().MultiplyAdd(hs, a, r)

	var sig [SignatureSize]byte
	copy(sig[:32], Rb)
	copy(sig[32:], s.Bytes())
	return sig
}

// Verify reports whether sig is a valid XEdDSA signature of msg by the
// X25519 public key pub (xeddsa_verify of the specification). It refuses a
// public key that is not a canonical field element, and, more strictly than
// the specification, an s that is not reduced mod q (as RFC 8032 does), so
// that a signature has a single valid encoding.
func Verify(pub *[KeySize]byte, msg []byte, sig []byte) bool {
	A, err := MontgomeryToEdwards(pub, 0)
	if err != nil {
		return false
	}
	return verifyEdwards(&A, msg, sig)
}

// VerifySignedPreKey03 verifies an OMEMO 0.3 bundle's signed pre-key
// signature as libsignal's curve25519_verify does: the top bit of the
// signature's last byte (always 0 in an XEdDSA signature, where s < 2²⁵³)
// is the sign bit of the Edwards form of the identity key, and is cleared
// before the check. XEdDSA signers (libsignal, gab) leave it 0;
// python3-omemo, whose identity is an Ed25519 key that may have its sign
// bit set, signs with that key and puts its sign bit there.
func VerifySignedPreKey03(identity *[KeySize]byte, msg []byte, sig []byte) bool {
	if len(sig) != SignatureSize {
		return false
	}
	signBit := sig[SignatureSize-1] >> 7
	A, err := MontgomeryToEdwards(identity, signBit)
	if err != nil {
		return false
	}
	var clean [SignatureSize]byte
	copy(clean[:], sig)
	clean[SignatureSize-1] &^= 0x80
	return verifyEdwards(&A, msg, clean[:])
}

// verifyEdwards checks sig against the encoded Edwards point A as Ed25519
// does (R = sB - hA with h = SHA-512(R || A || msg)), with the sign bit of
// A as given: XEdDSA's verification once the key is in Edwards form, and
// what OMEMO 2 does with an identity key published as Ed25519. It refuses
// an A that is not a point and an s that is not reduced mod q.
func verifyEdwards(A *[KeySize]byte, msg []byte, sig []byte) bool {
	if len(sig) != SignatureSize {
		return false
	}
	Ap, err := new(edwards25519.Point).SetBytes(A[:])
	if err != nil {
		return false
	}
	s, err := edwards25519.NewScalar().SetCanonicalBytes(sig[32:])
	if err != nil {
		return false
	}
	h := sha512.New()
	h.Write(sig[:32])
	h.Write(A[:])
	h.Write(msg)
	hs, err := edwards25519.NewScalar().SetUniformBytes(h.Sum(nil))
	if err != nil {
		return false
	}
	hs.Negate(hs)
	// Rcheck = sB - hA
	Rcheck := new(edwards25519.Point).VarTimeDoubleScalarBaseMult(hs, Ap, s)
	return subtle.ConstantTimeCompare(Rcheck.Bytes(), sig[:32]) == 1
}

// MontgomeryToEdwards converts a Montgomery u coordinate (an X25519 public
// key) to the encoding of the Edwards point with y = (u-1)/(u+1) and the
// given sign bit (0 or 1). It refuses u ≥ p, which includes any u with its
// top bit set, and any u that gives no point on the curve.
func MontgomeryToEdwards(u *[KeySize]byte, signBit byte) ([KeySize]byte, error) {
	var out [KeySize]byte
	ue, err := new(field.Element).SetBytes(u[:])
	if err != nil || subtle.ConstantTimeCompare(ue.Bytes(), u[:]) != 1 {
		return out, errBadPoint
	}
	one := new(field.Element).One()
	num := new(field.Element).Subtract(ue, one)
	den := new(field.Element).Add(ue, one)
	y := new(field.Element).Multiply(num, den.Invert(den))
	copy(out[:], y.Bytes())
	out[31] |= (signBit & 1) << 7
	if _, err := new(edwards25519.Point).SetBytes(out[:]); err != nil {
		return [KeySize]byte{}, errBadPoint
	}
	return out, nil
}

// EdwardsToMontgomery converts an encoded Edwards point (an Ed25519 public
// key) to its Montgomery u coordinate, u = (1+y)/(1-y). It refuses
// encodings that are not points on the curve, and points of small order.
func EdwardsToMontgomery(ed *[KeySize]byte) ([KeySize]byte, error) {
	var out [KeySize]byte
	P, err := new(edwards25519.Point).SetBytes(ed[:])
	if err != nil {
		return out, errBadPoint
	}
	if new(edwards25519.Point).MultByCofactor(P).Equal(edwards25519.NewIdentityPoint()) == 1 {
		return out, errBadPoint
	}
	copy(out[:], P.BytesMontgomery())
	return out, nil
}
