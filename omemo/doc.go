// Package omemo implements the cryptography of OMEMO end-to-end encryption
// (XEP-0384, versions 0.3 and 2): XEdDSA signatures, and the key encodings
// and key derivation chains of X3DH and the Double Ratchet, as published in
// Signal's specifications and XEP-0384.
//
// For each version: X3DH from a bundle (InitiateSession03,
// InitiateSession2) or from the first message (RespondSession03,
// RespondSession2), the Double Ratchet session (Session03, Session2) with
// its message formats, and the payload encryption (EncryptPayload03,
// EncryptPayload2), and the whole message: EncryptMessage03 /
// DecryptMessage03 and EncryptMessage2 / DecryptMessage2 encrypt one
// plaintext for many devices and decrypt the key addressed to us. Our own device (Device: id,
// identity, signed and one-time pre-keys, the bundles to publish) serves
// both versions.
//
// The package is pure computation: no XMPP, no user interface, no I/O.
// Callers pass in keys and bytes and store what comes back. See
// docs/decisions/0010-omemo.md for the choice of primitives and the threat
// model.
package omemo
