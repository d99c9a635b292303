// Package omemo implements the cryptography of OMEMO end-to-end encryption
// (XEP-0384, versions 0.3 and 2): XEdDSA signatures, and the key encodings
// and key derivation chains of X3DH and the Double Ratchet, as published in
// Signal's specifications and XEP-0384.
//
// For each version: X3DH from a bundle (InitiateSession03,
// InitiateSession2) or from the first message (RespondSession03,
// RespondSession2), the Double Ratchet session (Session03, Session2) with
// its message formats, and OMEMO 2's payload encryption (EncryptPayload2,
// DecryptPayload2).
//
// The package is pure computation: no XMPP, no user interface, no I/O.
// Callers pass in keys and bytes and store what comes back. See
// docs/decisions/0010-omemo.md for the choice of primitives and the threat
// model.
package omemo
