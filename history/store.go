package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

// Direction of a message.
const (
	In  = "in"
	Out = "out"
)

// Message is one stored message.
type Message struct {
	ID        int64
	Kind      string // of conversation: KindChat (also when ""), KindRoom, KindPrivate
	Peer      string // the conversation's JID: a bare JID, a room's, or room/nick
	Direction string // In or Out
	From, To  string // full JIDs as on the wire
	Body      string
	Thread    string
	StanzaID  string    // the id attribute as sent
	Time      time.Time // server (delay) time when known, else when received or sent
	Received  time.Time // local time of storing
	OriginID  string    // XEP-0359 origin-id
	State     string    // delivery state of an outgoing message (see the State constants)
	ArchiveID string    // the id our server's archive gave it (XEP-0359 stanza-id, XEP-0313)
	Edited    bool      // corrected after it was sent (XEP-0308)
	// In a room: who wrote it, by nick and XEP-0421 occupant-id.
	Nick       string
	OccupantID string
	// Reply is what it answers (XEP-0461), File the file it shares; zero
	// for none.
	Reply Reply
	File  File
	// Retracted is its tombstone, nil while it stands; Reactions the
	// reactions on it, tallied (filled when read back).
	Retracted *Tombstone
	Reactions []Reaction
	// OMEMO end-to-end encryption (XEP-0384). Encryption is the version
	// it was encrypted with, 0 when it was not (every row stored before
	// gab spoke OMEMO); Device is its sender's device id (ours for one we
	// sent), 0 when not encrypted; Trust is what the sender device's
	// identity key was trusted as when the message was stored ("" when
	// not encrypted). For one we sent, the caller chooses what Trust
	// says (the least trusted of the devices it was encrypted for).
	Encryption Version
	Device     uint32
	Trust      Trust
	// Wire is the encrypted element of a message in the outbox (pending
	// or unacked) as it goes on the wire, opaque to the store: a resend
	// sends these bytes again rather than encrypting anew. It is kept
	// while the message is in the outbox and removed once it is sent,
	// fails or is retracted. Only Unsent reads it back ("" elsewhere).
	Wire string
}

// Kinds of conversation, as stored (the same words as chat's).
const (
	KindChat    = "chat"
	KindRoom    = "room"
	KindPrivate = "room-private"
)

// Conv names a conversation: its kind and JID.
type Conv struct {
	Kind string // KindChat when ""
	Peer string
}

func (c Conv) kind() string {
	if c.Kind == "" {
		return KindChat
	}
	return c.Kind
}

// Delivery states of outgoing messages.
const (
	StatePending   = "pending"   // written by the user, not yet on the wire
	StateUnacked   = "unacked"   // on the wire, the server has not confirmed it (XEP-0198)
	StateSent      = "sent"      // the server has it
	StateFailed    = "failed"    // it could not be delivered
	StateDelivered = "delivered" // the peer's client confirmed it (XEP-0184)
	StateDisplayed = "displayed" // the peer read it (XEP-0333)
)

// Store is one account's message database. It is safe for concurrent use.
type Store struct {
	db *sql.DB

	// The search index catches up in the background once appends pause
	// (see indexer), and before every search.
	kick    chan struct{}
	stop    chan struct{}
	stopped chan struct{}
	backlog atomic.Int64 // rows appended since the index last caught up
	closing sync.Once
	// explain, set by tests, is told SQLite's plan for Known's query.
	explain func(detail string)
	// holdIndex, set by tests, keeps the background indexer from catching
	// up (a search still does): rows wait, whatever the machine's speed.
	holdIndex atomic.Bool
	// faultAt, set by tests, is asked at each step of Commit's
	// transaction; an error it returns fails the transaction there.
	faultAt func(step string) error
}

// explainPlan hands the plan of query q to s.explain.
func (s *Store) explainPlan(ctx context.Context, q string, args []any) {
	rows, err := s.db.QueryContext(ctx, `EXPLAIN QUERY PLAN `+q, args...)
	if err != nil {
		s.explain("error: " + err.Error())
		return
	}
	defer rows.Close()
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if rows.Scan(&id, &parent, &notused, &detail) == nil {
			s.explain(detail)
		}
	}
}

// indexQuiet is how long appends must pause before the index catches up;
// indexBacklog is how many unindexed rows make it catch up regardless.
const (
	indexQuiet   = time.Second
	indexBacklog = 5000
)

// migrations are applied in order; user_version records how many ran.
var migrations = []string{
	`CREATE TABLE messages (
		id        INTEGER PRIMARY KEY,
		peer      TEXT NOT NULL,
		direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
		from_jid  TEXT NOT NULL,
		to_jid    TEXT NOT NULL,
		body      TEXT NOT NULL,
		thread    TEXT NOT NULL DEFAULT '',
		stanza_id TEXT NOT NULL DEFAULT '',
		ts        INTEGER NOT NULL,
		received  INTEGER NOT NULL
	);
	CREATE INDEX messages_peer_ts ON messages (peer, ts, id);`,
	`ALTER TABLE messages ADD COLUMN origin_id TEXT NOT NULL DEFAULT '';
	ALTER TABLE messages ADD COLUMN state TEXT NOT NULL DEFAULT '';
	CREATE INDEX messages_unsent ON messages (state) WHERE state IN ('pending', 'unacked');
	CREATE INDEX messages_origin ON messages (origin_id) WHERE origin_id != '';`,
	`ALTER TABLE messages ADD COLUMN archive_id TEXT NOT NULL DEFAULT '';
	CREATE INDEX messages_archive ON messages (archive_id) WHERE archive_id != '';
	CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
	`CREATE VIRTUAL TABLE messages_fts USING fts5(body, content='messages', content_rowid='id');
	INSERT INTO messages_fts(rowid, body) SELECT id, body FROM messages;
	CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
		INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);
	END;
	CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
		INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
	END;
	CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
		INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
		INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);
	END;`,
	`ALTER TABLE messages ADD COLUMN edited INTEGER NOT NULL DEFAULT 0;
	CREATE INDEX messages_stanza ON messages (peer, stanza_id);`,
	// The search index is brought up to date in bulk (see index) rather
	// than by a trigger per insert: flushing FTS5 once per small
	// transaction was half the cost of storing a message during a flood.
	// fts_state.indexed is the highest message id in the index; only
	// indexed rows need their index entries changed.
	`DROP TRIGGER messages_fts_insert;
	DROP TRIGGER messages_fts_delete;
	DROP TRIGGER messages_fts_update;
	CREATE TABLE fts_state (indexed INTEGER NOT NULL);
	INSERT INTO fts_state SELECT coalesce(max(id), 0) FROM messages;
	CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
	WHEN old.id <= (SELECT indexed FROM fts_state) BEGIN
		INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
	END;
	CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages
	WHEN old.id <= (SELECT indexed FROM fts_state) BEGIN
		INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
		INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);
	END;`,
	// Archive ids are looked up within a conversation (see Known).
	`DROP INDEX messages_archive;
	CREATE INDEX messages_archive ON messages (peer, archive_id) WHERE archive_id != '';`,
	// What a correction replaced (XEP-0308): the text before each edit,
	// oldest first, so the original is never lost.
	// The correction's own ids let its copies (the archive's at catch-up)
	// be recognised.
	`CREATE TABLE edits (
		id         INTEGER PRIMARY KEY,
		message    INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
		body       TEXT NOT NULL,
		replaced   INTEGER NOT NULL,
		stanza_id  TEXT NOT NULL DEFAULT '',
		origin_id  TEXT NOT NULL DEFAULT '',
		archive_id TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX edits_message ON edits (message, id);
	CREATE INDEX edits_origin ON edits (origin_id) WHERE origin_id != '';
	CREATE INDEX edits_archive ON edits (archive_id) WHERE archive_id != '';`,
	// A conversation is a kind and a JID: a room's messages are not a
	// chat with its bare JID. Room messages say who wrote them. Adding
	// columns with a default rewrites no rows; the indexes are rebuilt
	// with the kind in front.
	`ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'chat';
	ALTER TABLE messages ADD COLUMN nick TEXT NOT NULL DEFAULT '';
	ALTER TABLE messages ADD COLUMN occupant_id TEXT NOT NULL DEFAULT '';
	DROP INDEX messages_peer_ts;
	CREATE INDEX messages_conv_ts ON messages (peer, kind, ts, id);
	DROP INDEX messages_stanza;
	CREATE INDEX messages_stanza ON messages (peer, kind, stanza_id);
	DROP INDEX messages_archive;
	CREATE INDEX messages_archive ON messages (peer, kind, archive_id) WHERE archive_id != '';`,
	// The roster and the bookmarks as last received, so they can be shown
	// before the server answers, and the roster asked for by version
	// (XEP-0237). The roster is one row (see encodeRoster): reading ten
	// thousand rows through the driver took 17 ms, one row a third of it.
	`CREATE TABLE roster (
		id      INTEGER PRIMARY KEY CHECK (id = 1),
		version TEXT NOT NULL,
		count   INTEGER NOT NULL,
		sum     INTEGER NOT NULL,
		entries TEXT NOT NULL
	);
	CREATE TABLE bookmarks (
		room     TEXT PRIMARY KEY,
		name     TEXT NOT NULL DEFAULT '',
		nick     TEXT NOT NULL DEFAULT '',
		autojoin INTEGER NOT NULL DEFAULT 0
	) WITHOUT ROWID;`,
	// Search at a million messages. The index keeps no copy of the text
	// (contentless, rows deletable), indexes word prefixes of one to four
	// letters (a search for "the" no longer merges the lists of every word
	// that begins so), and knows each message's conversation (a token
	// zcN, N its row in convs), so a search in one conversation is one
	// lookup in the index, not a walk of every match elsewhere.
	// messages_ts orders all conversations by time for search. The index
	// is refilled by the indexer in the background (fts_state back to 0).
	`DROP TRIGGER messages_fts_delete;
	DROP TRIGGER messages_fts_update;
	DROP TABLE messages_fts;
	CREATE TABLE convs (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, peer TEXT NOT NULL, UNIQUE (peer, kind));
	CREATE VIRTUAL TABLE messages_fts USING fts5(body, conv, content='', contentless_delete=1, prefix='1 2 3 4');
	UPDATE fts_state SET indexed = 0;
	CREATE INDEX messages_ts ON messages (ts, id);
	CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
	WHEN old.id <= (SELECT indexed FROM fts_state) BEGIN
		DELETE FROM messages_fts WHERE rowid = old.id;
	END;
	CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages
	WHEN old.id <= (SELECT indexed FROM fts_state) BEGIN
		DELETE FROM messages_fts WHERE rowid = old.id;
		INSERT INTO messages_fts(rowid, body, conv) SELECT new.id, new.body, 'zc' || id FROM convs WHERE peer = new.peer AND kind = new.kind;
	END;`,
	// Replies, files, retraction and reactions (see actions.go): what a
	// message answers and the quote its sender gave, the file it shares,
	// a tombstone for a message removed (its text gone from the row and
	// the search index), and each reactor's set of reactions.
	`ALTER TABLE messages ADD COLUMN reply_id TEXT NOT NULL DEFAULT '';
	ALTER TABLE messages ADD COLUMN reply_to TEXT NOT NULL DEFAULT '';
	ALTER TABLE messages ADD COLUMN reply_quote TEXT NOT NULL DEFAULT '';
	ALTER TABLE messages ADD COLUMN file_url TEXT NOT NULL DEFAULT '';
	ALTER TABLE messages ADD COLUMN file_name TEXT NOT NULL DEFAULT '';
	ALTER TABLE messages ADD COLUMN file_size INTEGER NOT NULL DEFAULT -1;
	ALTER TABLE messages ADD COLUMN file_type TEXT NOT NULL DEFAULT '';
	CREATE TABLE tombstones (
		message   INTEGER PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
		moderated INTEGER NOT NULL,
		by_whom   TEXT NOT NULL,
		reason    TEXT NOT NULL,
		ts        INTEGER NOT NULL
	);
	CREATE TABLE reactions (
		message INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
		reactor TEXT NOT NULL,
		emojis  TEXT NOT NULL,
		own     INTEGER NOT NULL,
		ts      INTEGER NOT NULL,
		PRIMARY KEY (message, reactor)
	) WITHOUT ROWID;`,
	// Roster pushes since the roster row was last written whole (see
	// PushRoster): rewriting ten thousand entries for every push took
	// 10 ms or more each.
	`CREATE TABLE roster_pushes (
		seq     INTEGER PRIMARY KEY,
		version TEXT NOT NULL,
		remove  INTEGER NOT NULL,
		sum     INTEGER NOT NULL,
		entry   TEXT NOT NULL
	);`,
	// OMEMO (see omemo.go). On each message: the OMEMO version it was
	// encrypted with (0: not encrypted, every older row), its sender's
	// device id and that device's trust when it was stored. The
	// encrypted element of a message in the outbox, kept until it is
	// sent so that a resend does not encrypt again, and dropped by a
	// trigger once it leaves the outbox. Our device's key material (one
	// row), the sessions with peers' devices, peers' device lists (a
	// device that leaves its list becomes inactive, kept because old
	// messages name it) and trust decisions per identity key. The key
	// material and the sessions hold private keys.
	`ALTER TABLE messages ADD COLUMN encryption INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE messages ADD COLUMN device INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE messages ADD COLUMN trust TEXT NOT NULL DEFAULT '';
	CREATE TABLE outbox_wire (
		message INTEGER PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
		wire    TEXT NOT NULL
	);
	CREATE TRIGGER outbox_wire_settled AFTER UPDATE OF state ON messages
	WHEN old.state IN ('pending', 'unacked') AND new.state NOT IN ('pending', 'unacked') BEGIN
		DELETE FROM outbox_wire WHERE message = new.id;
	END;
	CREATE TABLE omemo_own (
		id      INTEGER PRIMARY KEY CHECK (id = 1),
		state   BLOB NOT NULL,
		created INTEGER NOT NULL,
		updated INTEGER NOT NULL
	);
	CREATE TABLE omemo_sessions (
		jid     TEXT NOT NULL,
		version INTEGER NOT NULL CHECK (version IN (1, 2)),
		device  INTEGER NOT NULL CHECK (device BETWEEN 1 AND 2147483647),
		state   BLOB NOT NULL,
		updated INTEGER NOT NULL,
		PRIMARY KEY (jid, version, device)
	);
	CREATE TABLE omemo_devices (
		jid        TEXT NOT NULL,
		version    INTEGER NOT NULL CHECK (version IN (1, 2)),
		device     INTEGER NOT NULL CHECK (device BETWEEN 1 AND 2147483647),
		active     INTEGER NOT NULL,
		label      TEXT NOT NULL DEFAULT '',
		identity   BLOB,
		first_seen INTEGER NOT NULL,
		last_seen  INTEGER NOT NULL,
		PRIMARY KEY (jid, version, device)
	) WITHOUT ROWID;
	CREATE TABLE omemo_trust (
		jid      TEXT NOT NULL,
		identity BLOB NOT NULL,
		trust    TEXT NOT NULL CHECK (trust IN ('undecided', 'trusted', 'verified', 'distrusted')),
		decided  INTEGER NOT NULL,
		PRIMARY KEY (jid, identity)
	) WITHOUT ROWID;`,
}

// Open opens (creating if needed) the database at path and brings its
// schema up to date. The database holds private conversations: it and
// SQLite's companion files (-wal, -shm, which SQLite creates with the
// database's own mode) are readable by the user only.
func Open(path string) (*Store, error) {
	if err := private(path); err != nil {
		return nil, fmt.Errorf("open history %s: %w", path, err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(ON)")
	if err != nil {
		return nil, fmt.Errorf("open history %s: %w", path, err)
	}
	db.SetMaxOpenConns(1) // one writer; SQLite serialises anyway
	s := &Store{db: db, kick: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{})}
	if err := s.migrate(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open history %s: %w", path, err)
	}
	go s.indexer()
	s.kick <- struct{}{} // rows left unindexed by a previous run
	return s, nil
}

// private creates the database file with mode 0600 if it does not exist,
// and takes group and other permissions away from one (and its companion
// files) that an earlier version left readable.
func private(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		st, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if st.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, st.Mode().Perm()&0o700); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Store) migrate() error {
	var version int
	if err := s.db.QueryRow(`PRAGMA user_version`).Scan(&version); err != nil {
		return err
	}
	if version > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this gab knows (%d)", version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		tx, err := s.db.Begin()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(migrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if _, err := tx.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, i+1)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// Append stores messages in one transaction and fills in their IDs.
func (s *Store) Append(msgs []*Message) error { return s.Write(msgs, nil) }

// MetaSet is one value kept between runs (see Meta), to be written with
// messages; an empty Value removes the key.
type MetaSet struct{ Key, Value string }

// Write stores messages and sets meta values in one transaction, and
// fills in the messages' IDs: a value that says how far something has
// been read is never on disk without what was read.
func (s *Store) Write(msgs []*Message, meta []MetaSet) error {
	return s.Commit(Batch{Messages: msgs, Meta: meta})
}

// Batch is what Commit writes in one transaction: messages, meta values
// and changes to OMEMO state, all of it or none.
type Batch struct {
	Messages []*Message
	Meta     []MetaSet
	// OwnDevice is our device's new key material (see SaveOwnDevice); nil
	// leaves it as it is.
	OwnDevice []byte
	// Sessions are saved in order (a later state of one session replaces
	// an earlier); then Ended are deleted.
	Sessions []Session
	Ended    []SessionKey
}

// Commit writes b in one transaction and fills in its messages' IDs. The
// ratchet state a message was decrypted or encrypted with is committed
// with it: a received message with the sessions (and our device's key
// material, when a pre-key message used a one-time pre-key) its
// decryption changed; a message queued in the outbox (State pending,
// Wire its encrypted element) with the sessions its encryption advanced.
// If anything fails, nothing of b is written (and its messages' IDs are
// left 0).
func (s *Store) Commit(b Batch) (err error) {
	if len(b.Messages) == 0 && len(b.Meta) == 0 && b.OwnDevice == nil && len(b.Sessions) == 0 && len(b.Ended) == 0 {
		return nil
	}
	if err := b.check(); err != nil {
		return err
	}
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	defer func() {
		if err != nil {
			for _, m := range b.Messages {
				m.ID = 0
			}
		}
	}()
	if err := s.fail("meta"); err != nil {
		return err
	}
	for _, m := range b.Meta {
		if m.Value == "" {
			_, err = tx.Exec(`DELETE FROM meta WHERE key = ?`, m.Key)
		} else {
			_, err = tx.Exec(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, m.Key, m.Value)
		}
		if err != nil {
			return err
		}
	}
	if err := s.writeMessages(tx, b.Messages); err != nil {
		return err
	}
	if err := s.writeOMEMO(tx, b); err != nil {
		return err
	}
	if err := s.fail("commit"); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if len(b.Messages) > 0 {
		s.backlog.Add(int64(len(b.Messages)))
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// fail returns the error a test injected at step, nil otherwise.
func (s *Store) fail(step string) error {
	if s.faultAt == nil {
		return nil
	}
	return s.faultAt(step)
}

// writeMessages inserts msgs in tx and fills in their IDs.
func (s *Store) writeMessages(tx *sql.Tx, msgs []*Message) error {
	if len(msgs) == 0 {
		return nil
	}
	st, err := tx.Prepare(`INSERT INTO messages (peer, direction, from_jid, to_jid, body, thread, stanza_id, ts, received, origin_id, state, archive_id, kind, nick, occupant_id,
		reply_id, reply_to, reply_quote, file_url, file_name, file_size, file_type, encryption, device, trust) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer st.Close()
	now := time.Now()
	for _, m := range msgs {
		if m.Received.IsZero() {
			m.Received = now
		}
		if m.Time.IsZero() {
			m.Time = m.Received
		}
		if m.Kind == "" {
			m.Kind = KindChat
		}
		size := m.File.Size
		if m.File.URL == "" {
			size = -1
		}
		res, err := st.Exec(m.Peer, m.Direction, m.From, m.To, m.Body, m.Thread, m.StanzaID, m.Time.UnixMicro(), m.Received.UnixMicro(), m.OriginID, m.State, m.ArchiveID, m.Kind, m.Nick, m.OccupantID,
			m.Reply.ID, m.Reply.To, m.Reply.Quote, m.File.URL, m.File.Name, size, m.File.Type, m.Encryption, m.Device, string(m.Trust))
		if err != nil {
			return err
		}
		if m.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		if m.Wire != "" {
			if _, err := tx.Exec(`INSERT INTO outbox_wire (message, wire) VALUES (?, ?)`, m.ID, m.Wire); err != nil {
				return err
			}
		}
		if err := s.fail("message"); err != nil {
			return err
		}
	}
	return nil
}

// indexer brings the search index up to date once appends have paused
// for indexQuiet, or when the backlog is large; a flood is indexed in one
// go after it, not message by message during it.
//
// Closing the store stops it between chunks: what is left is indexed at
// the next start, or before the next search.
func (s *Store) indexer() {
	defer close(s.stopped)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	quiet := time.NewTimer(indexQuiet)
	quiet.Stop()
	for {
		select {
		case <-s.stop:
			quiet.Stop()
			return
		case <-s.kick:
			if s.backlog.Load() >= indexBacklog {
				s.index(ctx)
				continue
			}
			quiet.Reset(indexQuiet)
		case <-quiet.C:
			if !s.holdIndex.Load() {
				s.index(ctx)
			}
		}
	}
}

// indexChunk is how many messages the index takes in one transaction:
// catching up on a large backlog (a whole store after an upgrade) leaves
// the database to others between chunks.
const indexChunk = 5000

// index adds every message not yet in the search index to it, a chunk
// per transaction.
func (s *Store) index(ctx context.Context) (err error) {
	n := s.backlog.Swap(0)
	defer func() {
		if err != nil {
			s.backlog.Add(n) // still to do
		}
	}()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		done, err := s.indexSome(ctx)
		if err != nil || done {
			return err
		}
	}
}

// indexSome indexes up to indexChunk messages; done when none were left.
func (s *Store) indexSome(ctx context.Context) (done bool, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var from int64
	var to sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT indexed FROM fts_state`).Scan(&from); err != nil {
		return false, err
	}
	if err := tx.QueryRowContext(ctx, `SELECT max(id) FROM (SELECT id FROM messages WHERE id > ? ORDER BY id LIMIT ?)`, from, indexChunk).Scan(&to); err != nil {
		return false, err
	}
	if !to.Valid {
		return true, nil
	}
	for _, q := range []string{
		`INSERT OR IGNORE INTO convs (kind, peer) SELECT DISTINCT kind, peer FROM messages WHERE id > ?1 AND id <= ?2`,
		`INSERT INTO messages_fts(rowid, body, conv) SELECT m.id, m.body, 'zc' || c.id FROM messages m JOIN convs c ON c.peer = m.peer AND c.kind = m.kind WHERE m.id > ?1 AND m.id <= ?2 ORDER BY m.id`,
		`UPDATE fts_state SET indexed = ?2`,
	} {
		if _, err := tx.ExecContext(ctx, q, from, to.Int64); err != nil {
			return false, err
		}
	}
	return false, tx.Commit()
}

const columns = `id, peer, direction, from_jid, to_jid, body, thread, stanza_id, ts, received, origin_id, state, archive_id, edited, kind, nick, occupant_id,
	reply_id, reply_to, reply_quote, file_url, file_name, file_size, file_type, encryption, device, trust,
	(SELECT moderated || char(31) || by_whom || char(31) || reason || char(31) || ts FROM tombstones WHERE tombstones.message = messages.id)`

// wireColumn is the encrypted element of a message in the outbox (see
// Message.Wire), read by Unsent alone.
const wireColumn = `, (SELECT wire FROM outbox_wire WHERE outbox_wire.message = messages.id)`

func (s *Store) query(ctx context.Context, where string, args ...any) ([]Message, error) {
	return s.queryRows(ctx, false, where, args...)
}

// queryRows reads the messages selected by where; withWire reads their
// encrypted elements too.
func (s *Store) queryRows(ctx context.Context, withWire bool, where string, args ...any) ([]Message, error) {
	q := `SELECT ` + columns
	if withWire {
		q += wireColumn
	}
	rows, err := s.db.QueryContext(ctx, q+` FROM messages `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var m Message
		var ts, rec int64
		var tomb, wire sql.NullString
		var trust string
		var enc, dev int64
		dest := []any{&m.ID, &m.Peer, &m.Direction, &m.From, &m.To, &m.Body, &m.Thread, &m.StanzaID, &ts, &rec, &m.OriginID, &m.State, &m.ArchiveID, &m.Edited, &m.Kind, &m.Nick, &m.OccupantID,
			&m.Reply.ID, &m.Reply.To, &m.Reply.Quote, &m.File.URL, &m.File.Name, &m.File.Size, &m.File.Type, &enc, &dev, &trust, &tomb}
		if withWire {
			dest = append(dest, &wire)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		m.Time, m.Received = time.UnixMicro(ts), time.UnixMicro(rec)
		m.Encryption, m.Device, m.Trust, m.Wire = Version(enc), uint32(dev), Trust(trust), wire.String
		if tomb.Valid {
			m.Retracted = parseTombstone(tomb.String)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	if err := s.tally(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// Before returns up to n messages of conversation c older than the row beforeID
// (0: the newest), oldest first, and whether older ones remain. Messages
// are in time order (server time where known), rows stored at the same
// time in the order they were stored: a message the archive brought in
// late sits where it was sent, not where it was stored.
func (s *Store) Before(ctx context.Context, c Conv, beforeID int64, n int) ([]Message, bool, error) {
	var out []Message
	var err error
	if beforeID <= 0 {
		out, err = s.query(ctx, `WHERE peer = ? AND kind = ? ORDER BY ts DESC, id DESC LIMIT ?`, c.Peer, c.kind(), n+1)
	} else {
		out, err = s.query(ctx, `WHERE peer = ? AND kind = ? AND (ts, id) < (SELECT ts, id FROM messages WHERE id = ?)
			ORDER BY ts DESC, id DESC LIMIT ?`, c.Peer, c.kind(), beforeID, n+1)
	}
	if err != nil {
		return nil, false, err
	}
	more := len(out) > n
	if more {
		out = out[:n]
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, more, nil
}

// Unsent returns outgoing messages not yet confirmed by the server
// (pending or unacked), oldest first: the outbox. A retracted message is
// not among them: it is never sent again. An encrypted one comes with its
// Wire, the element to send again as it is.
func (s *Store) Unsent(ctx context.Context) ([]Message, error) {
	return s.queryRows(ctx, true, `WHERE state IN ('pending', 'unacked') AND direction = 'out' AND id NOT IN (SELECT message FROM tombstones) ORDER BY id`)
}

// SetState records the delivery state of the outgoing message with
// origin-id originID.
//
// The origin-id index holds only rows with one: "origin_id != ”" lets
// SQLite use it (without it, every state change read the whole table).
func (s *Store) SetState(ctx context.Context, originID, state string) error {
	q := `UPDATE messages SET state = ? WHERE origin_id = ? AND origin_id != '' AND direction = 'out'`
	if s.explain != nil {
		s.explainPlan(ctx, q, []any{state, originID})
	}
	_, err := s.db.ExecContext(ctx, q, state, originID)
	return err
}

// ftsQuery turns what a user typed into an FTS5 query: every word must
// appear in the text (as a word prefix), and nothing typed is read as FTS
// syntax.
func ftsQuery(text string) string {
	var terms []string
	for _, w := range strings.Fields(text) {
		terms = append(terms, `body : "`+strings.ReplaceAll(w, `"`, `""`)+`"*`)
	}
	return strings.Join(terms, " AND ")
}

// searchSpan is how many matches beyond the limit Search reads in the
// order they were stored before it turns to time order (see Search).
var searchSpan = 2000

// searchWaitMax is how many messages not yet indexed a search indexes
// before it answers; with more waiting it answers from the index as it
// stands (see Search).
var searchWaitMax int64 = 4 * indexChunk

// IndexAll brings the search index up to date, however many messages
// wait (a search answers without waiting for more than searchWaitMax).
func (s *Store) IndexAll(ctx context.Context) error {
	if err := s.index(ctx); err != nil {
		return fmt.Errorf("bring the search index up to date: %w", err)
	}
	return nil
}

// Unsearched is about how many stored messages the search index does not
// hold yet: those stored after the last it indexed (a cheap estimate from
// row ids; 0 when it is up to date).
func (s *Store) Unsearched(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT max(0, coalesce((SELECT max(id) FROM messages), 0) - indexed) FROM fts_state`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("read how far the search index is: %w", err)
	}
	return n, nil
}

// hit is a search match: its row and time.
type hit struct{ id, ts int64 }

// newer orders hits newest first, by time then row.
func newer(a, b hit) int {
	if a.ts != b.ts {
		return cmpInt(b.ts, a.ts)
	}
	return cmpInt(b.id, a.id)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Search finds messages containing every word of text, newest first (by
// time), in conversation c; a c with Peer "" searches every conversation.
//
// The index gives matches cheaply in the order they were stored, newest
// row first, and only so: sorting every match by time cost seconds for a
// common word among a million messages. Time order and row order agree
// but for messages stored late (brought in from an archive) or dated
// ahead. So Search reads the newest-stored limit+searchSpan matches; if
// there are no more, it sorts them. Otherwise every match it did not read
// was stored before all it read, and only those dated after the limit-th
// newest it has can change the answer: the rows dated after that one
// (few, as matches are then plentiful) are walked in time order and the
// older-stored among them checked against the index.
//
// The index is brought up to date first, unless more than searchWaitMax
// messages wait to be indexed (the index being refilled after an upgrade,
// minutes at a million messages): then what is indexed is searched at
// once and Unsearched says how many were left out.
func (s *Store) Search(ctx context.Context, text string, c Conv, limit int) ([]Message, error) {
	q := ftsQuery(text)
	if q == "" || limit <= 0 {
		return nil, nil
	}
	lag, err := s.Unsearched(ctx)
	if err != nil {
		return nil, err
	}
	if lag <= searchWaitMax {
		if err := s.index(ctx); err != nil {
			return nil, fmt.Errorf("bring the search index up to date: %w", err)
		}
	}
	if c.Peer != "" {
		var conv int64
		err := s.db.QueryRowContext(ctx, `SELECT id FROM convs WHERE peer = ? AND kind = ?`, c.Peer, c.kind()).Scan(&conv)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil // nothing stored in it
		}
		if err != nil {
			return nil, err
		}
		q += fmt.Sprintf(` AND conv : "zc%d"`, conv)
	}
	hits, err := s.hits(ctx, `SELECT id, ts FROM messages WHERE id IN
		(SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rowid DESC LIMIT ?)`, q, limit+searchSpan)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(hits, newer)
	if len(hits) == limit+searchSpan {
		found, err := s.laterHits(ctx, q, c, hits, limit)
		if err != nil {
			return nil, err
		}
		hits = append(hits, found...)
		slices.SortFunc(hits, newer)
	}
	hits = hits[:min(len(hits), limit)]
	if len(hits) == 0 {
		return nil, nil
	}
	ids := make([]any, len(hits))
	for i, h := range hits {
		ids[i] = h.id
	}
	out, err := s.query(ctx, `WHERE id IN (?`+strings.Repeat(`, ?`, len(ids)-1)+`)`, ids...)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Message) int {
		return newer(hit{a.ID, a.Time.UnixMicro()}, hit{b.ID, b.Time.UnixMicro()})
	})
	return out, nil
}

// walkBatch is how many rows laterHits reads at a time.
const walkBatch = 500

// laterHits finds the matches of q among rows stored before every row of
// hits (limit+searchSpan matches of q, the newest stored, newest first in
// time) that are dated among the limit newest. It walks rows newest first
// in time order (of conversation c, or all) and checks each row stored
// before those against the index, until limit matches are newer than the
// row it is at.
func (s *Store) laterHits(ctx context.Context, q string, c Conv, hits []hit, limit int) ([]hit, error) {
	first := hits[0].id
	for _, h := range hits {
		first = min(first, h.id)
	}
	walk := `SELECT id, ts FROM messages WHERE (ts, id) < (?, ?) ORDER BY ts DESC, id DESC LIMIT ?`
	var args []any
	if c.Peer != "" {
		walk = `SELECT id, ts FROM messages WHERE peer = ? AND kind = ? AND (ts, id) < (?, ?) ORDER BY ts DESC, id DESC LIMIT ?`
		args = []any{c.Peer, c.kind()}
	}
	var found []hit
	k := 0 // hits newer than the row the walk is at
	at := hit{math.MaxInt64, math.MaxInt64}
	for {
		batch, err := s.hits(ctx, walk, append(args, at.ts, at.id, walkBatch)...)
		if err != nil {
			return nil, err
		}
		for _, r := range batch {
			for k < len(hits) && newer(hits[k], r) < 0 {
				k++
			}
			if k+len(found) >= limit {
				return found, nil
			}
			if r.id >= first {
				continue // among hits if it matches
			}
			var n int
			if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM messages_fts WHERE messages_fts MATCH ? AND rowid = ?`, q, r.id).Scan(&n); err != nil {
				return nil, err
			}
			if n > 0 {
				found = append(found, r)
			}
		}
		if len(batch) < walkBatch {
			return found, nil
		}
		at = batch[len(batch)-1]
	}
}

// hits runs a query of rows and times, telling s.explain its plan.
func (s *Store) hits(ctx context.Context, q string, args ...any) ([]hit, error) {
	if s.explain != nil {
		s.explainPlan(ctx, q, args)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []hit
	for rows.Next() {
		var h hit
		if err := rows.Scan(&h.id, &h.ts); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// Around returns the message with row id and its context in the same
// conversation: up to older messages before it and newer ones after it,
// oldest first, and whether even older ones remain.
func (s *Store) Around(ctx context.Context, c Conv, id int64, older, newer int) ([]Message, bool, error) {
	before, more, err := s.Before(ctx, c, id, older)
	if err != nil {
		return nil, false, err
	}
	after, err := s.query(ctx, `WHERE peer = ? AND kind = ? AND (ts, id) >= (SELECT ts, id FROM messages WHERE id = ?)
		ORDER BY ts, id LIMIT ?`, c.Peer, c.kind(), id, newer+1)
	if err != nil {
		return nil, false, err
	}
	return append(before, after...), more, nil
}

// Correction is a correction of a stored message (XEP-0308).
type Correction struct {
	Conv      Conv   // the conversation
	Direction string // of the message corrected
	ReplaceID string // the stanza id of the message corrected
	Body      string // its new text
	// The correction's own ids, to recognise its copies (see Known).
	StanzaID, OriginID, ArchiveID string
	// OccupantID is the author's XEP-0421 occupant-id in a room: only a
	// message by the same occupant is corrected.
	OccupantID string
}

// Correct replaces the body of the latest message with stanza id
// c.ReplaceID in the conversation c.Conv, sent in c.Direction (and in a
// room by the occupant c.OccupantID, where the room gives ids), and
// marks it edited; the text it replaces is kept (see Edits). It reports
// false when there is no such message: a correction names a message its
// sender sent, so one naming anybody else's changes nothing; nor does one
// naming a removed message (it stays removed).
func (s *Store) Correct(ctx context.Context, c Correction) bool {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false
	}
	defer tx.Rollback()
	var id int64
	var old string
	err = tx.QueryRowContext(ctx, `SELECT id, body FROM messages WHERE id =
		(SELECT max(id) FROM messages WHERE peer = ? AND kind = ? AND direction = ? AND stanza_id = ? AND occupant_id = ?)
		AND id NOT IN (SELECT message FROM tombstones)`,
		c.Conv.Peer, c.Conv.kind(), c.Direction, c.ReplaceID, c.OccupantID).Scan(&id, &old)
	if err != nil {
		return false
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO edits (message, body, replaced, stanza_id, origin_id, archive_id) VALUES (?, ?, ?, ?, ?, ?)`,
		id, old, time.Now().UnixMicro(), c.StanzaID, c.OriginID, c.ArchiveID); err != nil {
		return false
	}
	if _, err := tx.ExecContext(ctx, `UPDATE messages SET body = ?, edited = 1 WHERE id = ?`, c.Body, id); err != nil {
		return false
	}
	return tx.Commit() == nil
}

// Edit is a text a correction replaced.
type Edit struct {
	Body     string
	Replaced time.Time // when the correction came
}

// Edits returns the texts the message with row id had before its
// corrections, oldest (the original) first.
func (s *Store) Edits(ctx context.Context, id int64) ([]Edit, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT body, replaced FROM edits WHERE message = ? ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Edit
	for rows.Next() {
		var e Edit
		var ts int64
		if err := rows.Scan(&e.Body, &ts); err != nil {
			return nil, err
		}
		e.Replaced = time.UnixMicro(ts)
		out = append(out, e)
	}
	return out, rows.Err()
}

// LastReceived returns the newest message received in conversation c, in
// the conversation's order; ok is false when there is none.
func (s *Store) LastReceived(ctx context.Context, c Conv) (m Message, ok bool, err error) {
	out, err := s.query(ctx, `WHERE peer = ? AND kind = ? AND direction = 'in' ORDER BY ts DESC, id DESC LIMIT 1`, c.Peer, c.kind())
	if err != nil || len(out) == 0 {
		return Message{}, false, err
	}
	return out[0], true, nil
}

// LastReceivedBy returns the newest message received in room conversation
// c from one occupant: the one with occupantID where the room gives ids,
// else the one that sent from the full JID from (room/nick).
func (s *Store) LastReceivedBy(ctx context.Context, c Conv, occupantID, from string) (m Message, ok bool, err error) {
	var out []Message
	if occupantID != "" {
		out, err = s.query(ctx, `WHERE peer = ? AND kind = ? AND direction = 'in' AND occupant_id = ? ORDER BY ts DESC, id DESC LIMIT 1`, c.Peer, c.kind(), occupantID)
	} else {
		out, err = s.query(ctx, `WHERE peer = ? AND kind = ? AND direction = 'in' AND from_jid = ? AND occupant_id = '' ORDER BY ts DESC, id DESC LIMIT 1`, c.Peer, c.kind(), from)
	}
	if err != nil || len(out) == 0 {
		return Message{}, false, err
	}
	return out[0], true, nil
}

// Key is what recognises a copy of a stored message (see Known).
type Key struct {
	Conv      Conv // the conversation
	Direction string
	ArchiveID string // the archive's id: unique within the conversation's archive
	OriginID  string // the sender's XEP-0359 origin-id
	// StanzaID, with ArchiveID, for a copy that came from the archive:
	// the live copy stored without an archive id is recognised by its
	// stanza id, and given ArchiveID.
	StanzaID string
}

// Known reports whether a message is stored already: in the conversation
// with k.Peer, one with the same archive id, or, in the same direction,
// the same origin-id (a correction applied counts, by its own ids), or (for a copy from the archive) a message stored
// without an archive id with the same stanza id, which then takes
// k.ArchiveID. Copies of one message come by several ways (live, carbon,
// offline storage, archive); this is how one of them is kept. An archive
// id counts only within its conversation: the archive of a chat is the
// account's own (one per store), and an id a contact forged must not hide
// anybody else's message.
func (s *Store) Known(ctx context.Context, k Key) (bool, error) {
	kind := k.Conv.kind()
	// One EXISTS per key, each answered by its own index: an OR of the
	// keys inside one WHERE had SQLite walk the whole conversation for
	// every message checked (a room at 200 messages a second spent half
	// its time here). The origin-id is the rarer key: "+" keeps the
	// conversation's columns from drawing the planner to the index that
	// walks the conversation.
	var terms []string
	var args []any
	if k.ArchiveID != "" {
		terms = append(terms,
			`EXISTS (SELECT 1 FROM messages WHERE peer = ? AND kind = ? AND archive_id = ? AND archive_id != '')`,
			`EXISTS (SELECT 1 FROM edits JOIN messages ON messages.id = edits.message WHERE edits.archive_id = ? AND edits.archive_id != '' AND messages.peer = ? AND messages.kind = ?)`)
		args = append(args, k.Conv.Peer, kind, k.ArchiveID, k.ArchiveID, k.Conv.Peer, kind)
	}
	if k.OriginID != "" {
		terms = append(terms,
			`EXISTS (SELECT 1 FROM messages WHERE origin_id = ? AND origin_id != '' AND +peer = ? AND +kind = ? AND +direction = ?)`,
			`EXISTS (SELECT 1 FROM edits JOIN messages ON messages.id = edits.message WHERE edits.origin_id = ? AND edits.origin_id != '' AND messages.peer = ? AND messages.kind = ? AND messages.direction = ?)`)
		args = append(args, k.OriginID, k.Conv.Peer, kind, k.Direction, k.OriginID, k.Conv.Peer, kind, k.Direction)
	}
	var n int
	var err error
	if len(terms) > 0 {
		q := `SELECT ` + strings.Join(terms, " OR ")
		if s.explain != nil {
			s.explainPlan(ctx, q, args)
		}
		err = s.db.QueryRowContext(ctx, q, args...).Scan(&n)
	}
	if err != nil || n > 0 || k.StanzaID == "" || k.ArchiveID == "" {
		return n > 0, err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE messages SET archive_id = ? WHERE id =
		(SELECT min(id) FROM messages WHERE peer = ? AND kind = ? AND direction = ? AND stanza_id = ? AND archive_id = '')`,
		k.ArchiveID, k.Conv.Peer, kind, k.Direction, k.StanzaID)
	if err != nil {
		return false, err
	}
	m, err := res.RowsAffected()
	return m > 0, err
}

// HasLine reports whether conversation c holds a message received from
// nick with this body and time: how a copy of a room's history is
// recognised where the room keeps no archive and the message carries no
// id to go by (a room sends the same history at every join).
func (s *Store) HasLine(ctx context.Context, c Conv, nick, body string, t time.Time) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM messages WHERE peer = ? AND kind = ? AND ts = ? AND nick = ? AND body = ?`,
		c.Peer, c.kind(), t.UnixMicro(), nick, body).Scan(&n)
	return n > 0, err
}

// SetArchiveID records the archive id of an outgoing message in c we
// stored by its origin-id, once the archive tells us.
// By the origin-id index, as SetState: "+" keeps the conversation's
// columns from drawing SQLite to an index that walks the conversation.
func (s *Store) SetArchiveID(ctx context.Context, c Conv, originID, archiveID string) error {
	q := `UPDATE messages SET archive_id = ? WHERE origin_id = ? AND origin_id != '' AND +peer = ? AND +kind = ? AND direction = 'out' AND archive_id = ''`
	args := []any{archiveID, originID, c.Peer, c.kind()}
	if s.explain != nil {
		s.explainPlan(ctx, q, args)
	}
	_, err := s.db.ExecContext(ctx, q, args...)
	return err
}

// LastArchiveID is the archive id of the newest message of conversation
// c that has one ("" for none), and its time: where a catch-up from the
// archive of a room (which keeps its own archive) starts.
func (s *Store) LastArchiveID(ctx context.Context, c Conv) (string, time.Time, error) {
	return s.archiveEdge(ctx, c, "DESC")
}

// FirstArchiveID is the archive id of the oldest message of conversation
// c that has one ("" for none), and its time: where paging back into a
// room's archive goes on from.
func (s *Store) FirstArchiveID(ctx context.Context, c Conv) (string, time.Time, error) {
	return s.archiveEdge(ctx, c, "ASC")
}

func (s *Store) archiveEdge(ctx context.Context, c Conv, order string) (string, time.Time, error) {
	var id string
	var ts int64
	err := s.db.QueryRowContext(ctx, `SELECT archive_id, ts FROM messages WHERE peer = ? AND kind = ? AND archive_id != ''
		ORDER BY ts `+order+`, id `+order+` LIMIT 1`, c.Peer, c.kind()).Scan(&id, &ts)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, nil
	}
	return id, time.UnixMicro(ts), err
}

// ArchiveTime is the time of the message of conversation c with this
// archive id, and whether there is one.
func (s *Store) ArchiveTime(ctx context.Context, c Conv, archiveID string) (time.Time, bool, error) {
	var ts int64
	err := s.db.QueryRowContext(ctx, `SELECT ts FROM messages WHERE peer = ? AND kind = ? AND archive_id = ? AND archive_id != '' LIMIT 1`,
		c.Peer, c.kind(), archiveID).Scan(&ts)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	return time.UnixMicro(ts), err == nil, err
}

// Meta reads a value kept between runs ("" when unset).
func (s *Store) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// SetMeta keeps a value between runs.
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}

// Count is the number of stored messages.
func (s *Store) Count(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM messages`).Scan(&n)
	return n, err
}

// Check runs SQLite's integrity check, and FTS5's check that the search
// index matches the messages, and returns an error describing any damage.
func (s *Store) Check(ctx context.Context) error {
	if err := s.index(ctx); err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)`); err != nil {
		return fmt.Errorf("history search index damaged: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return err
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("history database damaged: %s", strings.Join(problems, "; "))
	}
	return nil
}

// Close stops the indexer and closes the database; rows it had not
// indexed yet are indexed at the next Open.
func (s *Store) Close() error {
	s.closing.Do(func() { close(s.stop) })
	<-s.stopped
	return s.db.Close()
}
