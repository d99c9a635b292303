package omemo

import (
	"crypto/aes"
	"crypto/cipher"
)

// cbcEncrypt is AES-CBC with PKCS#7 padding (a whole block of padding when
// the plaintext fills its last block), as both versions of OMEMO encrypt
// under a message key and OMEMO 2 encrypts its payload.
func cbcEncrypt(key *[32]byte, iv *[aes.BlockSize]byte, plaintext []byte) []byte {
	block, err := aes.NewCipher(key[:])
	if err != nil {
		// Only a key of another size fails; ours is 32 bytes.
		panic("omemo: AES: " + err.Error())
	}
	pad := aes.BlockSize - len(plaintext)%aes.BlockSize
	ct := make([]byte, len(plaintext)+pad)
	copy(ct, plaintext)
	for i := len(plaintext); i < len(ct); i++ {
		ct[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(block, iv[:]).CryptBlocks(ct, ct)
	return ct
}

// cbcDecrypt reverses cbcEncrypt. It refuses a ciphertext that is empty
// or not whole blocks, and padding that is not PKCS#7's. Callers check a
// MAC first, so that these refusals tell an attacker nothing.
func cbcDecrypt(key *[32]byte, iv *[aes.BlockSize]byte, ct []byte) ([]byte, error) {
	if len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, errBadMessage
	}
	block, err := aes.NewCipher(key[:])
	if err != nil {
		panic("omemo: AES: " + err.Error())
	}
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, iv[:]).CryptBlocks(pt, ct)
	pad := int(pt[len(pt)-1])
	if pad == 0 || pad > aes.BlockSize {
		return nil, errBadMessage
	}
	for _, c := range pt[len(pt)-pad:] {
		if int(c) != pad {
			return nil, errBadMessage
		}
	}
	return pt[:len(pt)-pad], nil
}
