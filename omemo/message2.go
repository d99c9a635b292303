package omemo

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// OMEMO 2 messages (XEP-0384): an OMEMOAuthenticatedMessage holding the
// truncated HMAC-SHA-256 and the OMEMOMessage it authenticates. The
// associated data of the MAC is X3DH's: both Ed25519 identity keys,
// initiator first.
const (
	macSize2 = 16
	adSize2  = 2 * KeySize
)

// Fields of OMEMOMessage (proto2): n = 1 (uint32, required), pn = 2
// (uint32, required), dh_pub = 3 (bytes, required: the X25519 ratchet
// key, 32 bytes), ciphertext = 4 (bytes, optional).
var omemoMessage2 = []protoField{
	{protowire.VarintType, true},
	{protowire.VarintType, true},
	{protowire.BytesType, true},
	{protowire.BytesType, false},
}

// Fields of OMEMOAuthenticatedMessage (proto2): mac = 1 (bytes, required),
// message = 2 (bytes, required: an OMEMOMessage).
var omemoAuthenticatedMessage2 = []protoField{
	{protowire.BytesType, true},
	{protowire.BytesType, true},
}

// appendMessage2 appends the OMEMOMessage, its fields in number order as
// protobuf writes them.
func appendMessage2(b []byte, h ratchetHeader, ciphertext []byte) []byte {
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(h.n))
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(h.pn))
	b = protowire.AppendTag(b, 3, protowire.BytesType)
	b = protowire.AppendBytes(b, h.ratchetKey[:])
	b = protowire.AppendTag(b, 4, protowire.BytesType)
	return protowire.AppendBytes(b, ciphertext)
}

// parseMessage2 reads an OMEMOMessage strictly (see readProto), with a
// ratchet key of exactly 32 bytes.
func parseMessage2(b []byte) (h ratchetHeader, ciphertext []byte, err error) {
	v, err := readProto(b, "message", omemoMessage2)
	if err != nil {
		return h, nil, err
	}
	if len(v[2].b) != KeySize {
		return h, nil, fmt.Errorf("omemo: a ratchet key is %d bytes, not %d", len(v[2].b), KeySize)
	}
	h.n, h.pn = v[0].n, v[1].n
	copy(h.ratchetKey[:], v[2].b)
	return h, v[3].b, nil
}

// appendAuthenticated2 appends the OMEMOAuthenticatedMessage.
func appendAuthenticated2(b, mac, message []byte) []byte {
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendBytes(b, mac)
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	return protowire.AppendBytes(b, message)
}

// parseAuthenticated2 reads an OMEMOAuthenticatedMessage strictly, with a
// MAC of exactly 16 bytes; the OMEMOMessage is returned unparsed.
func parseAuthenticated2(b []byte) (mac, message []byte, err error) {
	v, err := readProto(b, "authenticated message", omemoAuthenticatedMessage2)
	if err != nil {
		return nil, nil, err
	}
	if len(v[0].b) != macSize2 {
		return nil, nil, fmt.Errorf("omemo: a message MAC is %d bytes, not %d", len(v[0].b), macSize2)
	}
	return v[0].b, v[1].b, nil
}

// mac2 is the truncated HMAC-SHA-256 under the message's MAC key over the
// associated data (both identity keys) and the serialized OMEMOMessage.
func mac2(macKey *[32]byte, ad, message []byte) []byte {
	m := hmac.New(sha256.New, macKey[:])
	m.Write(ad)
	m.Write(message)
	return m.Sum(nil)[:macSize2]
}

// encryptMessage2 encrypts plaintext under a message key as OMEMO 2 does:
// AES-256-CBC with PKCS#7 padding under the keys expanded with "OMEMO
// Message Key Material", in an OMEMOMessage carrying the header, inside an
// OMEMOAuthenticatedMessage with its truncated MAC.
func encryptMessage2(messageKey *[KeySize]byte, ad []byte, h ratchetHeader, plaintext []byte) ([]byte, error) {
	if len(ad) != adSize2 {
		return nil, fmt.Errorf("omemo: associated data of %d bytes, not %d", len(ad), adSize2)
	}
	k := expandMessageKey(info2, messageKey)
	msg := appendMessage2(nil, h, cbcEncrypt(&k.aesKey, &k.iv, plaintext))
	return appendAuthenticated2(nil, mac2(&k.macKey, ad, msg), msg), nil
}

// decryptMessage2 checks the MAC of an OMEMOAuthenticatedMessage under a
// message key and returns its header and plaintext. Any change to the
// message, the MAC or the associated data is refused before anything is
// decrypted.
func decryptMessage2(messageKey *[KeySize]byte, ad, data []byte) (ratchetHeader, []byte, error) {
	if len(ad) != adSize2 {
		return ratchetHeader{}, nil, fmt.Errorf("omemo: associated data of %d bytes, not %d", len(ad), adSize2)
	}
	tag, msg, err := parseAuthenticated2(data)
	if err != nil {
		return ratchetHeader{}, nil, err
	}
	k := expandMessageKey(info2, messageKey)
	if subtle.ConstantTimeCompare(mac2(&k.macKey, ad, msg), tag) != 1 {
		return ratchetHeader{}, nil, errAuth
	}
	h, ct, err := parseMessage2(msg)
	if err != nil {
		return ratchetHeader{}, nil, err
	}
	pt, err := cbcDecrypt(&k.aesKey, &k.iv, ct)
	if err != nil {
		return ratchetHeader{}, nil, err
	}
	return h, pt, nil
}

// header2 reads the header of an OMEMOAuthenticatedMessage before it is
// authenticated, only to find its message key.
func header2(data []byte) (ratchetHeader, error) {
	_, msg, err := parseAuthenticated2(data)
	if err != nil {
		return ratchetHeader{}, err
	}
	h, _, err := parseMessage2(msg)
	return h, err
}
