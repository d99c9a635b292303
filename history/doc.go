// Package history is the message store: one SQLite database per account
// (modernc.org/sqlite, pure Go), its schema migrations and its queries.
//
// # Schema
//
// The migrations in store.go are the schema's definition; in short:
//
//   - messages: every message, incoming and outgoing, in the clear, with
//     its conversation (kind, peer), ids, times, delivery state, reply,
//     file, and whether it was encrypted with OMEMO (encryption: the
//     version, 0 for none; device: the sender's device id; trust: that
//     device's trust when it was stored). The outbox is the messages in
//     state pending or unacked.
//   - outbox_wire: the encrypted element of a message in the outbox, kept
//     so that a resend sends the same ciphertext; removed once the message
//     is sent, fails or is retracted.
//   - edits, tombstones, reactions: corrections' replaced texts, what is
//     left of removed messages, reactions.
//   - messages_fts, convs, fts_state: the search index and how far it is.
//   - meta: values kept between runs (how far archives were read).
//   - roster, roster_pushes, bookmarks: the roster and bookmarks as last
//     received (the roster as one row, and the pushes since it was
//     written whole).
//   - omemo_own: our OMEMO device's key material (private keys), one row.
//   - omemo_sessions: the Double Ratchet session with each device of each
//     contact (and of our own account) per OMEMO version (private keys).
//   - omemo_devices: contacts' published device lists per version: active
//     or not (a device that left its list is kept, as old messages name
//     it), first and last seen, label, identity key once known.
//   - omemo_trust: the trust decided on each contact's identity keys.
//
// The database holds plaintext history and private keys: it and SQLite's
// companion files are created with mode 0600 (see Open). Sessions and our
// key material change with the messages they encrypt or decrypt and are
// committed in the same transaction (see Commit).
package history
