package omemo

import (
	"errors"
	"fmt"

	"golang.org/x/crypto/curve25519"
)

// keyTypeDJB is the type byte OMEMO 0.3 (following libsignal's wire
// format) puts before every Curve25519 public key: 33 bytes in all.
const keyTypeDJB = 0x05

// EncodedKeySize03 is the size of a public key in OMEMO 0.3's encoding.
const EncodedKeySize03 = 1 + KeySize

// EncodePublicKey03 encodes an X25519 public key as OMEMO 0.3 sends it in
// bundles and messages: the type byte 0x05, then the 32 bytes of u.
func EncodePublicKey03(pub *[KeySize]byte) []byte {
	out := make([]byte, EncodedKeySize03)
	out[0] = keyTypeDJB
	copy(out[1:], pub[:])
	return out
}

// DecodePublicKey03 reads a public key in OMEMO 0.3's encoding. It refuses
// any length other than 33 bytes and any type byte other than 0x05.
func DecodePublicKey03(b []byte) ([KeySize]byte, error) {
	var pub [KeySize]byte
	if len(b) != EncodedKeySize03 {
		return pub, fmt.Errorf("omemo: a public key is %d bytes, not %d", len(b), EncodedKeySize03)
	}
	if b[0] != keyTypeDJB {
		return pub, fmt.Errorf("omemo: public key of unknown type %#02x", b[0])
	}
	copy(pub[:], b[1:])
	return pub, nil
}

var errLowOrder = errors.New("omemo: the peer's key gives no shared secret (low-order point)")

// DH is X25519 between our private key and a peer's public key. It refuses
// a public key of low order, for which the shared secret would be all
// zeros whatever our key.
func DH(priv, pub *[KeySize]byte) ([KeySize]byte, error) {
	var out [KeySize]byte
	s, err := curve25519.X25519(priv[:], pub[:])
	if err != nil {
		return out, errLowOrder
	}
	copy(out[:], s)
	return out, nil
}
