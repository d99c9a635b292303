package omemo

import (
	"crypto/aes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"io"
)

// Sizes of OMEMO 2's payload encryption (XEP-0384, "Message encryption"):
// a 32-byte key, a MAC truncated to 16 bytes, and the key material, key
// then MAC, that each session encrypts for its device.
const (
	PayloadKeySize2         = 32
	PayloadMACSize2         = 16
	PayloadKeyMaterialSize2 = PayloadKeySize2 + PayloadMACSize2
)

// payloadInfo2 is the HKDF info of OMEMO 2's payload keys.
const payloadInfo2 = "OMEMO Payload"

// payloadKeys2 expands a payload key: HKDF-SHA-256 with a salt of 32 zero
// bytes and the info "OMEMO Payload", 80 bytes split into an AES-256 key,
// an HMAC-SHA-256 key and a CBC IV.
func payloadKeys2(key []byte) messageKeys {
	var out [80]byte
	var salt [sha256.Size]byte
	hkdfSHA256(key, salt[:], payloadInfo2, out[:])
	var k messageKeys
	copy(k.aesKey[:], out[:32])
	copy(k.macKey[:], out[32:64])
	copy(k.iv[:], out[64:])
	return k
}

func payloadMAC2(macKey *[32]byte, ciphertext []byte) []byte {
	m := hmac.New(sha256.New, macKey[:])
	m.Write(ciphertext)
	return m.Sum(nil)[:PayloadMACSize2]
}

// EncryptPayload2 encrypts a message's payload (the XEP-0420 envelope) as
// OMEMO 2 does: a fresh 32-byte key read from rand, expanded with HKDF;
// AES-256-CBC with PKCS#7 padding; HMAC-SHA-256 of the ciphertext
// truncated to 16 bytes. It returns the ciphertext (the <payload>) and the
// key material, key then MAC, that each recipient's session encrypts.
func EncryptPayload2(rand io.Reader, plaintext []byte) (ciphertext []byte, keyMaterial [PayloadKeyMaterialSize2]byte, err error) {
	key := keyMaterial[:PayloadKeySize2]
	if _, err := io.ReadFull(rand, key); err != nil {
		return nil, [PayloadKeyMaterialSize2]byte{}, fmt.Errorf("omemo: payload key: %w", err)
	}
	k := payloadKeys2(key)
	ciphertext = cbcEncrypt(&k.aesKey, &k.iv, plaintext)
	copy(keyMaterial[PayloadKeySize2:], payloadMAC2(&k.macKey, ciphertext))
	return ciphertext, keyMaterial, nil
}

// DecryptPayload2 reverses EncryptPayload2 with the key material a session
// decrypted. It refuses key material not of 48 bytes, a MAC that does not
// match (checked before anything is decrypted), a ciphertext that is not
// whole AES blocks, and bad padding. An empty OMEMO message (one with no
// <payload>, sent to build or repair a session) carries 32 zero bytes
// through its session instead (python3-twomemo's convention): there is
// nothing to decrypt then, and this refuses those 32 bytes as key
// material.
func DecryptPayload2(keyMaterial, ciphertext []byte) ([]byte, error) {
	if len(keyMaterial) != PayloadKeyMaterialSize2 {
		return nil, fmt.Errorf("omemo: payload key material of %d bytes, not %d", len(keyMaterial), PayloadKeyMaterialSize2)
	}
	if len(ciphertext) == 0 || len(ciphertext)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("omemo: a payload of %d bytes is not whole AES blocks", len(ciphertext))
	}
	k := payloadKeys2(keyMaterial[:PayloadKeySize2])
	if subtle.ConstantTimeCompare(payloadMAC2(&k.macKey, ciphertext), keyMaterial[PayloadKeySize2:]) != 1 {
		return nil, errPayloadAuth
	}
	pt, err := cbcDecrypt(&k.aesKey, &k.iv, ciphertext)
	if err != nil {
		return nil, fmt.Errorf("omemo: the payload's padding is wrong: %w", err)
	}
	return pt, nil
}
