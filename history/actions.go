package history

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Reply is what a message answers (XEP-0461): the id it names, the
// author it names, and the first line of the quote its sender gave as a
// fallback (remote text; "" when none).
type Reply struct {
	ID, To, Quote string
}

// File is a file a message shares by URL. Size is -1 when unknown.
type File struct {
	URL, Name, Type string
	Size            int64
}

// Tombstone is what is left of a retracted message (XEP-0424) or one a
// room moderator removed (XEP-0425): who, why and when, never the text.
type Tombstone struct {
	Moderated bool
	By        string
	Reason    string
	Time      time.Time
}

// Reaction is one emoji's tally on a message.
type Reaction struct {
	Emoji string
	Count int
	Own   bool
}

func parseTombstone(s string) *Tombstone {
	f := strings.Split(s, "\x1f")
	if len(f) != 4 {
		return &Tombstone{}
	}
	ts, _ := strconv.ParseInt(f[3], 10, 64)
	return &Tombstone{Moderated: f[0] == "1", By: f[1], Reason: f[2], Time: time.UnixMicro(ts)}
}

// emojiSep separates a reactor's emojis in its row; it is a control
// character, which no reaction may hold (the client drops those).
const emojiSep = "\x1f"

// tally fills in the reactions on msgs, in one query.
func (s *Store) tally(ctx context.Context, msgs []Message) error {
	if len(msgs) == 0 {
		return nil
	}
	ids := make([]any, len(msgs))
	at := make(map[int64]int, len(msgs))
	for i, m := range msgs {
		ids[i] = m.ID
		at[m.ID] = i
	}
	rows, err := s.db.QueryContext(ctx, `SELECT message, emojis, own FROM reactions WHERE message IN (?`+strings.Repeat(`, ?`, len(ids)-1)+`) ORDER BY message, ts, reactor`, ids...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var emojis string
		var own bool
		if err := rows.Scan(&id, &emojis, &own); err != nil {
			return err
		}
		m := &msgs[at[id]]
		for _, e := range strings.Split(emojis, emojiSep) {
			if e == "" {
				continue
			}
			k := -1
			for j := range m.Reactions {
				if m.Reactions[j].Emoji == e {
					k = j
					break
				}
			}
			if k < 0 {
				m.Reactions = append(m.Reactions, Reaction{Emoji: e})
				k = len(m.Reactions) - 1
			}
			m.Reactions[k].Count++
			m.Reactions[k].Own = m.Reactions[k].Own || own
		}
	}
	return rows.Err()
}

// Target finds the message of conversation c that a reply, reaction or
// retraction names by id: in a room by the id the room's archive gave it
// (XEP-0359 stanza-id, which XEP-0424, -0444 and -0461 name in rooms);
// elsewhere by its origin-id or its stanza id, the newest if several.
func (s *Store) Target(ctx context.Context, c Conv, id string) (Message, bool, error) {
	if id == "" {
		return Message{}, false, nil
	}
	var out []Message
	var err error
	if c.kind() == KindRoom {
		out, err = s.query(ctx, `WHERE peer = ? AND kind = ? AND archive_id = ? AND archive_id != '' ORDER BY id DESC LIMIT 1`, c.Peer, c.kind(), id)
	} else {
		out, err = s.query(ctx, `WHERE id = (SELECT max(id) FROM (
			SELECT id FROM messages WHERE peer = ? AND kind = ? AND stanza_id = ?
			UNION ALL SELECT id FROM messages WHERE origin_id = ? AND origin_id != '' AND +peer = ? AND +kind = ?))`,
			c.Peer, c.kind(), id, id, c.Peer, c.kind())
	}
	if err != nil || len(out) == 0 {
		return Message{}, false, err
	}
	return out[0], true, nil
}

// Get reads the message with row id; ok is false when there is none.
func (s *Store) Get(ctx context.Context, id int64) (Message, bool, error) {
	out, err := s.query(ctx, `WHERE id = ?`, id)
	if err != nil || len(out) == 0 {
		return Message{}, false, err
	}
	return out[0], true, nil
}

// SetReactions replaces reactor's reactions on the message with row id
// by emojis (XEP-0444: each reaction message carries the reactor's whole
// set); none removes them. It reports whether anything changed, and the
// message's new tally.
func (s *Store) SetReactions(ctx context.Context, id int64, reactor string, emojis []string, own bool, at time.Time) (bool, []Reaction, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, nil, err
	}
	defer tx.Rollback()
	joined := strings.Join(emojis, emojiSep)
	var old string
	err = tx.QueryRowContext(ctx, `SELECT emojis FROM reactions WHERE message = ? AND reactor = ?`, id, reactor).Scan(&old)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if len(emojis) == 0 {
			return false, nil, nil
		}
	case err != nil:
		return false, nil, err
	case old == joined:
		return false, nil, nil
	}
	var tomb int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM tombstones WHERE message = ?`, id).Scan(&tomb); err != nil {
		return false, nil, err
	}
	if tomb > 0 {
		return false, nil, nil // nothing to react to any more
	}
	if len(emojis) == 0 {
		_, err = tx.ExecContext(ctx, `DELETE FROM reactions WHERE message = ? AND reactor = ?`, id, reactor)
	} else {
		_, err = tx.ExecContext(ctx, `INSERT INTO reactions (message, reactor, emojis, own, ts) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (message, reactor) DO UPDATE SET emojis = excluded.emojis, own = excluded.own, ts = excluded.ts`, id, reactor, joined, own, at.UnixMicro())
	}
	if err != nil {
		return false, nil, err
	}
	if err := tx.Commit(); err != nil {
		return false, nil, err
	}
	msgs := []Message{{ID: id}}
	if err := s.tally(ctx, msgs); err != nil {
		return true, nil, err
	}
	return true, msgs[0].Reactions, nil
}

// Retract leaves a tombstone for the message with row id: its text, the
// texts its corrections replaced, its quote and file, its reactions, and
// the quotes of the replies to it are removed (the search index follows the text), who removed it and
// why are kept. It reports false when it was retracted already.
func (s *Store) Retract(ctx context.Context, id int64, t Tombstone) (bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	if t.Time.IsZero() {
		t.Time = time.Now()
	}
	res, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO tombstones (message, moderated, by_whom, reason, ts) VALUES (?, ?, ?, ?, ?)`,
		id, t.Moderated, t.By, t.Reason, t.Time.UnixMicro())
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	for _, q := range []string{
		// The quotes of the replies to it in its conversation, which name
		// it by one of its ids, are copies of its text.
		`UPDATE messages SET reply_quote = '' FROM (SELECT peer, kind, stanza_id, origin_id, archive_id FROM messages WHERE id = ?1) AS t
			WHERE messages.peer = t.peer AND messages.kind = t.kind AND messages.reply_id != '' AND messages.reply_quote != ''
			AND messages.reply_id IN (t.stanza_id, t.origin_id, t.archive_id)`,
		`UPDATE messages SET body = '', reply_quote = '', file_url = '', file_name = '', file_size = -1, file_type = '' WHERE id = ?1`,
		`DELETE FROM edits WHERE message = ?1`,
		`DELETE FROM reactions WHERE message = ?1`,
		// Never sent again: its encrypted element is not needed.
		`DELETE FROM outbox_wire WHERE message = ?1`,
	} {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return false, err
		}
	}
	return true, tx.Commit()
}
