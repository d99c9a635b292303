package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// RosterItem is one roster entry as cached between runs.
type RosterItem struct {
	JID          string // bare JID
	Name         string
	Subscription string // none, to, from, both
	Ask          bool
	Groups       []string
}

// metaBookmarks counts the saved bookmarks; it being set says they were
// saved at all (none saved is not the same as an empty list saved).
const metaBookmarks = "bookmarks.count"

// The cached roster is one text in one row (see migration 10): per entry
// five fields — JID, name, subscription, ask (0 or 1), groups — each
// ended by U+001E, the entry ended by U+001D; in the groups field each
// group name is ended by U+001F. XML text cannot carry these three
// characters, so no value from the server holds them (checkItem keeps
// them out all the same). The row also holds the count of entries and a
// CRC-32 of the text, so that damage is found rather than read.
const (
	fieldEnd = 0x1e
	entryEnd = 0x1d
	groupSep = "\x1f"
)

// ErrRosterDamaged says the cached roster cannot be trusted: a row that
// makes no sense, or entries that do not add up to what was saved. It
// should be fetched whole from the server again.
var ErrRosterDamaged = errors.New("the saved contact list is damaged")

func encodeRoster(items []RosterItem) string {
	n := 0
	for _, it := range items {
		n += len(it.JID) + len(it.Name) + len(it.Subscription) + 7
		for _, g := range it.Groups {
			n += len(g) + 1
		}
	}
	var b strings.Builder
	b.Grow(n)
	for _, it := range items {
		b.WriteString(it.JID)
		b.WriteByte(fieldEnd)
		b.WriteString(it.Name)
		b.WriteByte(fieldEnd)
		b.WriteString(it.Subscription)
		b.WriteByte(fieldEnd)
		if it.Ask {
			b.WriteByte('1')
		} else {
			b.WriteByte('0')
		}
		b.WriteByte(fieldEnd)
		for _, g := range it.Groups {
			b.WriteString(g)
			b.WriteString(groupSep)
		}
		b.WriteByte(fieldEnd)
		b.WriteByte(entryEnd)
	}
	return b.String()
}

// decodeGroups reads a groups field, appending the names to *pool (one
// allocation for the whole roster rather than one per entry).
func decodeGroups(s string, pool *[]string) ([]string, bool) {
	if s == "" {
		return nil, true
	}
	if !strings.HasSuffix(s, groupSep) {
		return nil, false
	}
	start := len(*pool)
	for s != "" {
		i := strings.IndexByte(s, groupSep[0])
		if i <= 0 {
			return nil, false
		}
		*pool = append(*pool, s[:i])
		s = s[i+1:]
	}
	return (*pool)[start:len(*pool):len(*pool)], true
}

// decodeRoster reads encodeRoster's text, which must hold n entries.
func decodeRoster(all string, n int) ([]RosterItem, error) {
	if !utf8.ValidString(all) {
		return nil, fmt.Errorf("%w: an entry is not text", ErrRosterDamaged)
	}
	// Every entry ends with the one entry end: the count (outside the
	// checksum) is checked before it sizes anything.
	if strings.Count(all, string(rune(entryEnd))) != n {
		return nil, fmt.Errorf("%w: %d entries were saved, the text does not hold that many", ErrRosterDamaged, n)
	}
	items := make([]RosterItem, 0, n)
	pool := make([]string, 0, strings.Count(all, groupSep))
	// Saved in JID order, each JID once, so a JID after the one before
	// is a new one; a list in another order is checked with a map.
	sorted := true
	for all != "" {
		var f [5]string
		for k := range f {
			i := strings.IndexByte(all, fieldEnd)
			if i < 0 {
				return nil, fmt.Errorf("%w: an entry is cut short", ErrRosterDamaged)
			}
			f[k], all = all[:i], all[i+1:]
		}
		if all == "" || all[0] != entryEnd {
			return nil, fmt.Errorf("%w: entry %q", ErrRosterDamaged, f[0])
		}
		all = all[1:]
		it := RosterItem{JID: f[0], Name: f[1], Subscription: f[2]}
		switch f[3] {
		case "0":
		case "1":
			it.Ask = true
		default:
			return nil, fmt.Errorf("%w: entry %q", ErrRosterDamaged, it.JID)
		}
		var ok bool
		it.Groups, ok = decodeGroups(f[4], &pool)
		// What is read must be what could have been saved (checkItem),
		// each JID once: else a push saved onto it would go wrong (a
		// removal leaving a second copy behind).
		if !ok || checkItem(it) != nil {
			return nil, fmt.Errorf("%w: entry %q", ErrRosterDamaged, it.JID)
		}
		if len(items) > 0 && it.JID <= items[len(items)-1].JID {
			sorted = false
		}
		items = append(items, it)
	}
	if len(items) != n {
		return nil, fmt.Errorf("%w: %d entries where %d were saved", ErrRosterDamaged, len(items), n)
	}
	if !sorted {
		seen := make(map[string]bool, n)
		for _, it := range items {
			if seen[it.JID] {
				return nil, fmt.Errorf("%w: entry %q", ErrRosterDamaged, it.JID)
			}
			seen[it.JID] = true
		}
	}
	return items, nil
}

// validSubscription is a subscription state a roster entry may have.
func validSubscription(s string) bool {
	switch s {
	case "none", "to", "from", "both":
		return true
	}
	return false
}

// validJID is a cheap sanity check of a stored JID: what was saved came
// through gab's JID parsing, so anything else is damage.
func validJID(s string) bool {
	if s == "" || len(s) > 3071 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f || c == '/' {
			return false
		}
	}
	return true
}

// checkItem refuses what Roster would read back as damage.
func checkItem(it RosterItem) error {
	if !validJID(it.JID) || !validSubscription(it.Subscription) || !utf8.ValidString(it.JID) {
		return fmt.Errorf("history: cannot save roster entry %q (subscription %q)", it.JID, it.Subscription)
	}
	if strings.ContainsAny(it.Name, "\x1d\x1e\x1f") || !utf8.ValidString(it.Name) {
		return fmt.Errorf("history: cannot save roster entry %q: its name holds a control character", it.JID)
	}
	for _, g := range it.Groups {
		if g == "" || strings.ContainsAny(g, "\x1d\x1e\x1f") || !utf8.ValidString(g) {
			return fmt.Errorf("history: cannot save roster entry %q: group %q", it.JID, g)
		}
	}
	return nil
}

// querier is the store or a transaction.
type querier interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}

// readRoster reads the cached roster within q (the store, or a
// transaction), its pushes applied; see Roster.
func readRoster(ctx context.Context, q querier) (items []RosterItem, _ string, ok bool, err error) {
	// Scanned as they are, so that only a failure to read is an error
	// of its own; a value of the wrong kind is damage.
	var v, c, su, e any
	err = q.QueryRowContext(ctx, `SELECT version, count, sum, entries FROM roster WHERE id = 1`).Scan(&v, &c, &su, &e)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", false, nil
	}
	if err != nil {
		return nil, "", false, err
	}
	version, vok := v.(string)
	count, cok := c.(int64)
	sum, sok := su.(int64)
	entries, eok := e.(string)
	if !vok || !cok || !sok || !eok {
		return nil, "", false, fmt.Errorf("%w: a value of the wrong kind", ErrRosterDamaged)
	}
	if int64(crc32.ChecksumIEEE([]byte(entries))) != sum || count < 0 || count > int64(len(entries)) || !utf8.ValidString(version) {
		return nil, "", false, fmt.Errorf("%w: it does not match its checksum", ErrRosterDamaged)
	}
	if items, err = decodeRoster(entries, int(count)); err != nil {
		return nil, "", false, err
	}
	pushes, err := readPushes(ctx, q)
	if err != nil {
		return nil, "", false, err
	}
	for _, p := range pushes {
		if p.version != "" {
			version = p.version
		}
	}
	return applyPushes(items, pushes), version, true, nil
}

// rosterPush is one push saved since the roster row was last written.
type rosterPush struct {
	item    RosterItem
	remove  bool
	version string // the roster's version after it, "" for unchanged
}

// maxPushes is how many pushes are kept beside the roster row before the
// next one writes it whole again, with them applied: a push costs a
// small row, every maxPushes-th one a rewrite, and reading the roster
// applies at most this many.
const maxPushes = 64

// readPushes reads the pushes saved since the roster row, in order. Each
// is checked as the row's entries are: damage is ErrRosterDamaged.
func readPushes(ctx context.Context, q querier) ([]rosterPush, error) {
	rows, err := q.QueryContext(ctx, `SELECT version, remove, sum, entry FROM roster_pushes ORDER BY seq`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []rosterPush
	for rows.Next() {
		var v, r, su, e any
		if err := rows.Scan(&v, &r, &su, &e); err != nil {
			return nil, err
		}
		version, vok := v.(string)
		remove, rok := r.(int64)
		sum, sok := su.(int64)
		entry, eok := e.(string)
		if !vok || !utf8.ValidString(version) || !rok || !sok || !eok || (remove != 0 && remove != 1) || int64(crc32.ChecksumIEEE([]byte(entry))) != sum {
			return nil, fmt.Errorf("%w: a saved push does not match its checksum", ErrRosterDamaged)
		}
		its, err := decodeRoster(entry, 1)
		if err != nil {
			return nil, err
		}
		out = append(out, rosterPush{item: its[0], remove: remove == 1, version: version})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) > maxPushes {
		return nil, fmt.Errorf("%w: %d saved pushes, at most %d are kept", ErrRosterDamaged, len(out), maxPushes)
	}
	return out, nil
}

// applyPushes applies pushes, in order, to items. Items in JID order (as
// the row keeps them) stay so: the pushes' last word on each JID is
// merged in one pass.
func applyPushes(items []RosterItem, pushes []rosterPush) []RosterItem {
	if len(pushes) == 0 {
		return items
	}
	last := make(map[string]rosterPush, len(pushes))
	for _, p := range pushes {
		last[p.item.JID] = p
	}
	out := make([]RosterItem, 0, len(items)+len(last))
	for _, it := range items {
		p, ok := last[it.JID]
		switch {
		case !ok:
			out = append(out, it)
		case !p.remove:
			out = append(out, p.item)
		}
		delete(last, it.JID)
	}
	var added []RosterItem
	for _, p := range last {
		if !p.remove {
			added = append(added, p.item)
		}
	}
	byJID := func(a, b RosterItem) int { return strings.Compare(a.JID, b.JID) }
	slices.SortFunc(added, byJID)
	if !slices.IsSortedFunc(out, byJID) {
		return append(out, added...) // an older gab's row, in the server's order
	}
	// Both in JID order: merged.
	merged := make([]RosterItem, 0, len(out)+len(added))
	i, j := 0, 0
	for i < len(out) && j < len(added) {
		if out[i].JID < added[j].JID {
			merged = append(merged, out[i])
			i++
		} else {
			merged = append(merged, added[j])
			j++
		}
	}
	merged = append(merged, out[i:]...)
	return append(merged, added[j:]...)
}

// Roster reads the cached roster and its version. ok is false when none
// is cached. A cache that makes no sense is an error wrapping
// ErrRosterDamaged: the roster should be fetched whole again.
func (s *Store) Roster(ctx context.Context) (items []RosterItem, version string, ok bool, err error) {
	return readRoster(ctx, s.db)
}

func writeRoster(ctx context.Context, tx *sql.Tx, items []RosterItem, version string) error {
	for _, it := range items {
		if err := checkItem(it); err != nil {
			return err
		}
	}
	// In JID order: reading it back then needs no map to find a JID
	// saved twice.
	items = slices.Clone(items)
	slices.SortFunc(items, func(a, b RosterItem) int { return strings.Compare(a.JID, b.JID) })
	text := encodeRoster(items)
	if _, err := tx.ExecContext(ctx, `DELETE FROM roster_pushes`); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO roster (id, version, count, sum, entries) VALUES (1, ?, ?, ?, ?)`,
		version, len(items), int64(crc32.ChecksumIEEE([]byte(text))), text)
	return err
}

// SaveRoster replaces the cached roster with items at version: what a
// full roster from the server does. Items must not repeat a JID.
func (s *Store) SaveRoster(ctx context.Context, items []RosterItem, version string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := writeRoster(ctx, tx, items, version); err != nil {
		return err
	}
	return tx.Commit()
}

// PushRoster applies one roster push to the cached roster, in one
// transaction: remove deletes the entry for it.JID, otherwise it is added
// or replaced; the cache's version becomes version where that is not "".
// Without a cached roster it does nothing (a push does not make a whole
// roster). The push is kept beside the roster row, which is written
// whole again, the pushes applied, every maxPushes pushes: a push costs
// the same with ten contacts or ten thousand. A damaged cache is found
// when it is read (Roster) or written whole here: an error wrapping
// ErrRosterDamaged.
func (s *Store) PushRoster(ctx context.Context, it RosterItem, remove bool, version string) error {
	if remove {
		it = RosterItem{JID: it.JID, Subscription: "none"}
	}
	if err := checkItem(it); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var have, kept int64
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM roster WHERE id = 1), (SELECT COUNT(*) FROM roster_pushes)`).Scan(&have, &kept); err != nil {
		return err
	}
	if have == 0 {
		return nil
	}
	if kept >= maxPushes {
		items, old, _, err := readRoster(ctx, tx)
		if err != nil {
			return err
		}
		if version == "" {
			version = old
		}
		if err := writeRoster(ctx, tx, applyPushes(items, []rosterPush{{item: it, remove: remove}}), version); err != nil {
			return err
		}
		return tx.Commit()
	}
	// The version goes with the push: updating the roster row's would
	// rewrite the whole row (SQLite rewrites a record to change any of
	// its columns), 5 MB at 100,000 contacts.
	entry := encodeRoster([]RosterItem{it})
	if _, err := tx.ExecContext(ctx, `INSERT INTO roster_pushes (version, remove, sum, entry) VALUES (?, ?, ?, ?)`,
		version, remove, int64(crc32.ChecksumIEEE([]byte(entry))), entry); err != nil {
		return err
	}
	return tx.Commit()
}

// ForgetRoster drops the cached roster, so the next login fetches it
// whole.
func (s *Store) ForgetRoster(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range []string{`DELETE FROM roster`, `DELETE FROM roster_pushes`} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Bookmark is a room bookmark as cached between runs, to list the rooms
// before the server answers. Its password is not kept here: the server's
// list, which has it, replaces this one at login.
type Bookmark struct {
	Room     string
	Name     string
	Nick     string
	Autojoin bool
}

// Bookmarks reads the cached bookmarks, sorted by room; ok is false when
// none were saved.
func (s *Store) Bookmarks(ctx context.Context) (bms []Bookmark, ok bool, err error) {
	var saved string
	err = s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, metaBookmarks).Scan(&saved)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT room, name, nick, autojoin FROM bookmarks ORDER BY room`)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	for rows.Next() {
		var b Bookmark
		if err := rows.Scan(&b.Room, &b.Name, &b.Nick, &b.Autojoin); err != nil {
			return nil, false, err
		}
		if !validJID(b.Room) || !utf8.ValidString(b.Name) || !utf8.ValidString(b.Nick) {
			return nil, false, fmt.Errorf("the saved bookmark %q is damaged", b.Room)
		}
		bms = append(bms, b)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	if strconv.Itoa(len(bms)) != saved {
		return nil, false, fmt.Errorf("the saved bookmarks are damaged: %d where %s were saved", len(bms), saved)
	}
	return bms, true, nil
}

// SaveBookmarks replaces the cached bookmarks, in one transaction.
func (s *Store) SaveBookmarks(ctx context.Context, bms []Bookmark) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM bookmarks`); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, b := range bms {
		if !validJID(b.Room) {
			return fmt.Errorf("history: cannot save bookmark %q", b.Room)
		}
		seen[b.Room] = true
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO bookmarks (room, name, nick, autojoin) VALUES (?, ?, ?, ?)`, b.Room, b.Name, b.Nick, b.Autojoin); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, metaBookmarks, strconv.Itoa(len(seen))); err != nil {
		return err
	}
	return tx.Commit()
}
