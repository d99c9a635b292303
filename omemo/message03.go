package omemo

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// OMEMO 0.3 messages (libsignal's wire format): a version byte, the
// protobuf OMEMOMessage, then the first 8 bytes of an HMAC-SHA-256.
const (
	messageVersion03 = 0x33 // current version 3, oldest understood 3
	macSize03        = 8
	adSize03         = 2 * EncodedKeySize03 // both identity keys, initiator first
)

// Fields of OMEMOMessage (proto2): dh_pub = 1 (bytes, required),
// n = 2 (uint32, required), pn = 3 (uint32, required),
// ciphertext = 4 (bytes, optional).
const (
	fieldDHPub      protowire.Number = 1
	fieldN          protowire.Number = 2
	fieldPN         protowire.Number = 3
	fieldCiphertext protowire.Number = 4
)

var errBadMessage = errors.New("omemo: malformed message")

// errAuth is returned for a message whose authentication fails: tampered,
// or encrypted under another key.
var errAuth = errors.New("omemo: message authentication failed")

// appendMessage03 appends the version byte and the OMEMOMessage.
func appendMessage03(b []byte, h ratchetHeader, ciphertext []byte) []byte {
	b = append(b, messageVersion03)
	b = protowire.AppendTag(b, fieldDHPub, protowire.BytesType)
	b = protowire.AppendBytes(b, EncodePublicKey03(&h.ratchetKey))
	b = protowire.AppendTag(b, fieldN, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(h.n))
	b = protowire.AppendTag(b, fieldPN, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(h.pn))
	b = protowire.AppendTag(b, fieldCiphertext, protowire.BytesType)
	return protowire.AppendBytes(b, ciphertext)
}

// parseMessage03 reads a version byte and OMEMOMessage (without the MAC).
// It refuses another version, a missing or repeated field, a value out of
// range for its type, and trailing garbage; unknown fields are skipped, as
// protobuf has it.
func parseMessage03(b []byte) (h ratchetHeader, ciphertext []byte, err error) {
	if len(b) == 0 || b[0] != messageVersion03 {
		return h, nil, errBadMessage
	}
	b = b[1:]
	var seen [5]bool
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return h, nil, errBadMessage
		}
		b = b[n:]
		known := num >= fieldDHPub && num <= fieldCiphertext
		if known {
			if seen[num] {
				return h, nil, fmt.Errorf("omemo: message field %d repeated", num)
			}
			seen[num] = true
		}
		switch {
		case (num == fieldDHPub || num == fieldCiphertext) && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return h, nil, errBadMessage
			}
			b = b[n:]
			if num == fieldCiphertext {
				ciphertext = v
			} else if h.ratchetKey, err = DecodePublicKey03(v); err != nil {
				return h, nil, err
			}
		case (num == fieldN || num == fieldPN) && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 || v > 1<<32-1 {
				return h, nil, errBadMessage
			}
			b = b[n:]
			if num == fieldN {
				h.n = uint32(v)
			} else {
				h.pn = uint32(v)
			}
		case known:
			return h, nil, fmt.Errorf("omemo: message field %d of the wrong type", num)
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return h, nil, errBadMessage
			}
			b = b[n:]
		}
	}
	if !seen[fieldDHPub] || !seen[fieldN] || !seen[fieldPN] {
		return h, nil, fmt.Errorf("omemo: message lacks a required field")
	}
	return h, ciphertext, nil
}

// mac03 is the truncated HMAC-SHA-256 under the message's MAC key over the
// associated data (both identity keys) and the serialized message.
func mac03(macKey *[32]byte, ad, message []byte) []byte {
	m := hmac.New(sha256.New, macKey[:])
	m.Write(ad)
	m.Write(message)
	return m.Sum(nil)[:macSize03]
}

// encryptMessage03 encrypts plaintext under a message key as OMEMO 0.3
// does: AES-256-CBC with PKCS#7 padding under the expanded keys, in an
// OMEMOMessage carrying the header, followed by its truncated MAC.
func encryptMessage03(messageKey *[KeySize]byte, ad []byte, h ratchetHeader, plaintext []byte) ([]byte, error) {
	if len(ad) != adSize03 {
		return nil, fmt.Errorf("omemo: associated data of %d bytes, not %d", len(ad), adSize03)
	}
	k := expandMessageKey(info03, messageKey)
	ct := cbcEncrypt(&k.aesKey, &k.iv, plaintext)
	msg := appendMessage03(nil, h, ct)
	return append(msg, mac03(&k.macKey, ad, msg)...), nil
}

// decryptMessage03 checks the MAC of an OMEMO 0.3 message under a message
// key and returns its header and plaintext. Any change to the message, the
// MAC or the associated data is refused before anything is decrypted.
func decryptMessage03(messageKey *[KeySize]byte, ad, data []byte) (ratchetHeader, []byte, error) {
	if len(ad) != adSize03 {
		return ratchetHeader{}, nil, fmt.Errorf("omemo: associated data of %d bytes, not %d", len(ad), adSize03)
	}
	if len(data) < 1+macSize03 {
		return ratchetHeader{}, nil, errBadMessage
	}
	msg, tag := data[:len(data)-macSize03], data[len(data)-macSize03:]
	k := expandMessageKey(info03, messageKey)
	if subtle.ConstantTimeCompare(mac03(&k.macKey, ad, msg), tag) != 1 {
		return ratchetHeader{}, nil, errAuth
	}
	h, ct, err := parseMessage03(msg)
	if err != nil {
		return ratchetHeader{}, nil, err
	}
	pt, err := cbcDecrypt(&k.aesKey, &k.iv, ct)
	if err != nil {
		return ratchetHeader{}, nil, err
	}
	return h, pt, nil
}
