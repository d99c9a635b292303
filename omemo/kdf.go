package omemo

import (
	"crypto/hmac"
	"crypto/sha256"
	"io"

	"golang.org/x/crypto/hkdf"
)

// kdfInfo holds the HKDF info strings that tell the versions of OMEMO
// apart in the Double Ratchet's key derivations.
type kdfInfo struct {
	root        string // KDF_RK: the root chain
	messageKeys string // expanding a message key into cipher, MAC key and IV
}

// info03 is OMEMO 0.3's, as libsignal's wire protocol has them; info2 is
// OMEMO 2's (XEP-0384).
var (
	info03 = kdfInfo{root: "WhisperRatchet", messageKeys: "WhisperMessageKeys"}
	info2  = kdfInfo{root: "OMEMO Root Chain", messageKeys: "OMEMO Message Key Material"}
)

// hkdfSHA256 fills out from HKDF-SHA-256 (RFC 5869).
func hkdfSHA256(secret, salt []byte, info string, out []byte) {
	if _, err := io.ReadFull(hkdf.New(sha256.New, secret, salt, []byte(info)), out); err != nil {
		// Only a request beyond 255 hash lengths fails; ours are fixed and small.
		panic("omemo: HKDF: " + err.Error())
	}
}

// rootStep is KDF_RK of the Double Ratchet: HKDF-SHA-256 with the root key
// as salt and the Diffie-Hellman output as input key material; the 64
// bytes are the next root key, then the new chain key.
func rootStep(info kdfInfo, rootKey, dhOut *[KeySize]byte) (nextRoot, chainKey [KeySize]byte) {
	var out [2 * KeySize]byte
	hkdfSHA256(dhOut[:], rootKey[:], info.root, out[:])
	copy(nextRoot[:], out[:KeySize])
	copy(chainKey[:], out[KeySize:])
	return nextRoot, chainKey
}

// Inputs of the chain step: HMAC with 0x02 moves the chain on, HMAC with
// 0x01 yields the message key (the constants of the Double Ratchet
// specification's recommended KDF_CK, as OMEMO uses them).
var (
	chainKeyConstant   = []byte{0x02}
	messageKeyConstant = []byte{0x01}
)

// chainStep is KDF_CK of the Double Ratchet with HMAC-SHA-256: from a
// chain key, the next chain key and this step's message key.
func chainStep(chainKey *[KeySize]byte) (nextChain, messageKey [KeySize]byte) {
	m := hmac.New(sha256.New, chainKey[:])
	m.Write(chainKeyConstant)
	m.Sum(nextChain[:0])
	m.Reset()
	m.Write(messageKeyConstant)
	m.Sum(messageKey[:0])
	return nextChain, messageKey
}

// messageKeys are what one message key expands to for the message
// encryption of both versions: an AES-256 key, an HMAC-SHA-256 key and a
// CBC IV.
type messageKeys struct {
	aesKey [32]byte
	macKey [32]byte
	iv     [16]byte
}

// expandMessageKey derives the message keys: HKDF-SHA-256 of the message
// key with a zero salt of hash length and the version's info, 80 bytes
// split 32/32/16.
func expandMessageKey(info kdfInfo, messageKey *[KeySize]byte) messageKeys {
	var out [80]byte
	var salt [sha256.Size]byte
	hkdfSHA256(messageKey[:], salt[:], info.messageKeys, out[:])
	var k messageKeys
	copy(k.aesKey[:], out[:32])
	copy(k.macKey[:], out[32:64])
	copy(k.iv[:], out[64:])
	return k
}
