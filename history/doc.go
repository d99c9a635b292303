// Package history is the message store: one SQLite database per account
// (modernc.org/sqlite, pure Go), its schema migrations and its queries.
package history
