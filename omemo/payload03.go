package omemo

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"io"
)

// The OMEMO 0.3 payload, as Conversations, Dino, Gajim and python3-oldmemo
// encrypt it: AES-128-GCM under a fresh random key with a 12-byte IV. The
// 16-byte tag is not sent with the payload; the key and the tag together
// (32 bytes) are what each recipient's session encrypts.
const (
	PayloadKeySize03  = 16                                  // AES-128
	PayloadTagSize03  = 16                                  // the full GCM tag
	PayloadIVSize03   = 12                                  // the IV we send
	KeyMaterialSize03 = PayloadKeySize03 + PayloadTagSize03 // key || tag, per session
	legacyIVSize03    = 16                                  // the IV older clients sent
)

// ErrPayload: the payload does not decrypt with the key its message
// carried (altered on its way, or encrypted wrongly). When the key came
// through a session, the session read it: it is as sound as it was.
var ErrPayload = errors.New("omemo: the message's payload does not decrypt (tampered, or a wrong key)")

var errPayloadAuth = ErrPayload

// EncryptPayload03 encrypts plaintext for an OMEMO 0.3 message. It reads a
// 16-byte key and a 12-byte IV from rand and returns key||tag (what every
// recipient's session encrypts), the IV (sent in the header) and the
// ciphertext without its tag (the payload).
func EncryptPayload03(rand io.Reader, plaintext []byte) (keyAndTag [KeyMaterialSize03]byte, iv [PayloadIVSize03]byte, ciphertext []byte, err error) {
	var key [PayloadKeySize03]byte
	if _, err := io.ReadFull(rand, key[:]); err != nil {
		return keyAndTag, iv, nil, fmt.Errorf("omemo: payload key: %w", err)
	}
	if _, err := io.ReadFull(rand, iv[:]); err != nil {
		return keyAndTag, iv, nil, fmt.Errorf("omemo: payload IV: %w", err)
	}
	aead, err := payloadAEAD03(key[:], PayloadIVSize03)
	if err != nil {
		return keyAndTag, iv, nil, err
	}
	sealed := aead.Seal(nil, iv[:], plaintext, nil)
	ct, tag := sealed[:len(plaintext)], sealed[len(plaintext):]
	copy(keyAndTag[:PayloadKeySize03], key[:])
	copy(keyAndTag[PayloadKeySize03:], tag)
	return keyAndTag, iv, ct, nil
}

// DecryptPayload03 decrypts an OMEMO 0.3 payload with the key material a
// session decrypted for us and the header's IV. It accepts what clients
// send:
//
//   - keyMaterial of 32 bytes, key||tag, with the payload being the
//     ciphertext alone (what current clients and python3-oldmemo send);
//   - keyMaterial of 16 bytes, the key alone, with the 16-byte tag at the
//     end of the payload (the form of older clients);
//
// and an IV of 12 bytes (what everyone sends now) or 16 bytes (what older
// Conversations sent). Everything else is refused with an error saying
// what was wrong. python3-oldmemo 1.0.3, for comparison, sends a 12-byte
// IV and key||tag, and accepts only key||tag (the key alone, or a shorter
// tag, is an error there) with an IV of any length from 8 to 128 bytes;
// we read the legacy form beside it and keep the IV to the two lengths
// clients have sent.
func DecryptPayload03(keyMaterial, iv, payload []byte) ([]byte, error) {
	var key, sealed []byte
	switch len(keyMaterial) {
	case KeyMaterialSize03:
		key = keyMaterial[:PayloadKeySize03]
		sealed = make([]byte, 0, len(payload)+PayloadTagSize03)
		sealed = append(append(sealed, payload...), keyMaterial[PayloadKeySize03:]...)
	case PayloadKeySize03:
		if len(payload) < PayloadTagSize03 {
			return nil, fmt.Errorf("omemo: the payload is %d bytes, too short to carry its %d-byte tag", len(payload), PayloadTagSize03)
		}
		key, sealed = keyMaterial, payload
	default:
		return nil, fmt.Errorf("omemo: the message's key material is %d bytes, not %d (key and tag) or %d (key alone)",
			len(keyMaterial), KeyMaterialSize03, PayloadKeySize03)
	}
	if len(iv) != PayloadIVSize03 && len(iv) != legacyIVSize03 {
		return nil, fmt.Errorf("omemo: the message's IV is %d bytes, not %d (or %d from older clients)",
			len(iv), PayloadIVSize03, legacyIVSize03)
	}
	aead, err := payloadAEAD03(key, len(iv))
	if err != nil {
		return nil, err
	}
	pt, err := aead.Open(nil, iv, sealed, nil)
	if err != nil {
		return nil, errPayloadAuth
	}
	return pt, nil
}

func payloadAEAD03(key []byte, ivSize int) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	if ivSize == PayloadIVSize03 {
		return cipher.NewGCM(block)
	}
	return cipher.NewGCMWithNonceSize(block, ivSize)
}
