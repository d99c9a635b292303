// Package histfixture makes large, realistic message stores for
// benchmarks: many conversations of very different sizes (a few busy ones,
// a long tail of quiet ones), rooms with nicks and occupant ids, and text
// whose words follow a Zipf law, so that a search for a common word finds
// a great many messages and one for a rare word a handful.
//
// A store is built once by direct SQL in large transactions and cached
// under os.TempDir, keyed by the fixture's version, its size and the
// schema the store was created with: a later run (or a schema change)
// finds it or builds a new one.
package histfixture

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the same pure-Go driver as the store
)

// version changes whenever what Build writes changes.
const version = 4

// Conversations in every fixture: Rooms of them are rooms, the rest chats.
const (
	Conversations = 200
	Rooms         = 30
)

// Conv is one conversation of a fixture.
type Conv struct {
	Kind string // "chat" or "room", as the store has it
	Peer string
	Rank int // 0 the busiest
}

// Convs lists the fixture's conversations, busiest first. Chat i is with
// Chat(i); the rooms are room%02d@conference.localhost.
func Convs() []Conv {
	out := make([]Conv, Conversations)
	chat, room := 0, 0
	for r := range out {
		// Every sixth conversation by rank is a room, while rooms last:
		// rooms are among the busy and the quiet.
		if r%6 == 3 && room < Rooms {
			out[r] = Conv{Kind: "room", Peer: fmt.Sprintf("room%02d@conference.localhost", room), Rank: r}
			room++
			continue
		}
		out[r] = Conv{Kind: "chat", Peer: Chat(chat), Rank: r}
		chat++
	}
	return out
}

// Chat is the JID of the fixture's chat i (contacts as the benchmarks'
// rosters name them).
func Chat(i int) string { return fmt.Sprintf("c%05d@localhost", i) }

// Account is the store's own account.
const Account = "bench@localhost"

// Words: the vocabulary, most frequent first. Common and Rare pick words
// for searches: Common(i) appears in a large share of all messages,
// Rare(i) in a few dozen.
var vocabulary = makeVocabulary(20000)

// Common is the i-th most frequent word (i < 50).
func Common(i int) string { return vocabulary[i%50] }

// Rare is a word of rank between 12,000 and 20,000: a few dozen
// occurrences in a million messages.
func Rare(i int) string { return vocabulary[12000+(i*7919)%8000] }

// function words first (their frequencies follow Zipf's law in real text
// too), then made-up words built from syllables, all distinct.
var leading = strings.Fields(`the to and of a in is it you that for on this was with
	but have be are not at so what just all do if me my can we about like will no get one
	there out up know they think when how good now time see yes from here going your would
	well then really yeah some back because going still also tomorrow today meeting lunch
	coffee office train weekend project review build release server music evening morning`)

func makeVocabulary(n int) []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range leading {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	cons := strings.Split("b c d f g h j k l m n p r s t v w z br ch cl dr gr pl sh st th tr", " ")
	vows := strings.Split("a e i o u ai ea io ou", " ")
	r := rand.New(rand.NewSource(7))
	for len(out) < n {
		var b strings.Builder
		for k := 2 + r.Intn(3); k > 0; k-- {
			b.WriteString(cons[r.Intn(len(cons))])
			b.WriteString(vows[r.Intn(len(vows))])
		}
		if r.Intn(2) == 0 {
			b.WriteString(cons[r.Intn(13)])
		}
		if w := b.String(); !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// Build returns the path of the cached store of n messages, building it
// first when there is none. prepare is the store's own code at a path:
// history.Open, a search (which brings the search index up to date), and
// Close. Build calls it on an empty file, to create the schema, and once
// the messages are written, to index them. took is how long building
// took, 0 when the cached store was used. A caller that changes the store
// works on a copy (see Copy).
func Build(n int, prepare func(path string) error) (path string, took time.Duration, err error) {
	dir := filepath.Join(os.TempDir(), "gab-histfixture")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", 0, err
	}
	// The schema's fingerprint: what a fresh store's sqlite_master holds.
	probe := filepath.Join(dir, fmt.Sprintf("probe-%d.db", os.Getpid()))
	defer removeDB(probe)
	if err := prepare(probe); err != nil {
		return "", 0, err
	}
	schema, err := fingerprint(probe)
	if err != nil {
		return "", 0, err
	}
	path = filepath.Join(dir, fmt.Sprintf("v%d-%d-%s.db", version, n, schema))
	if _, err := os.Stat(path); err == nil {
		return path, 0, nil
	}
	start := time.Now()
	tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
	defer removeDB(tmp)
	if err := prepare(tmp); err != nil {
		return "", 0, err
	}
	if err := fill(tmp, n); err != nil {
		return "", 0, fmt.Errorf("fixture of %d messages: %w", n, err)
	}
	if err := prepare(tmp); err != nil {
		return "", 0, fmt.Errorf("fixture of %d messages, indexing: %w", n, err)
	}
	if err := checkpoint(tmp); err != nil {
		return "", 0, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", 0, err
	}
	return path, time.Since(start), nil
}

// checkpoint moves everything in the write-ahead log into the database
// file, so the file alone is the store.
func checkpoint(path string) error {
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}

func removeDB(p string) {
	for _, s := range []string{"", "-wal", "-shm", "-journal"} {
		os.Remove(p + s)
	}
}

func fingerprint(path string) (string, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return "", err
	}
	defer db.Close()
	rows, err := db.Query(`SELECT type, name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name`)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	h := sha256.New()
	for rows.Next() {
		var a, b, c string
		if err := rows.Scan(&a, &b, &c); err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00", a, b, c)
	}
	var v int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		return "", err
	}
	fmt.Fprintf(h, "%d", v)
	return hex.EncodeToString(h.Sum(nil))[:12], rows.Err()
}

// Copy copies the store at src (a checkpointed database, as Build leaves
// it) to dst.
func Copy(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// Span is the time the fixture's messages cover, ending an hour before
// it was built.
const Span = 5 * 365 * 24 * time.Hour

const perInsert = 50 // rows per INSERT statement

// fill writes n messages into the empty store at path (the store indexes
// them for search afterwards, see Build).
func fill(path string, n int) error {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)&_pragma=cache_size(-65536)")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	convs := Convs()
	// Conversation sizes: weight 1/(rank+1), so the busiest holds about a
	// sixth of all messages and the quietest a few thousandths.
	cum := make([]float64, len(convs))
	total := 0.0
	for i := range convs {
		total += 1 / float64(i+1)
		cum[i] = total
	}
	r := rand.New(rand.NewSource(1))
	zipf := rand.NewZipf(r, 1.07, 1, uint64(len(vocabulary)-1))
	nicks := make([]string, 60)
	for i := range nicks {
		nicks[i] = strings.ToUpper(vocabulary[200+i][:1]) + vocabulary[200+i][1:]
	}
	end := time.Now().Add(-time.Hour).UnixMicro()
	begin := end - Span.Microseconds()
	const cols = "(peer, direction, from_jid, to_jid, body, thread, stanza_id, ts, received, origin_id, state, archive_id, kind, nick, occupant_id)"
	ins := `INSERT INTO messages ` + cols + ` VALUES ` + strings.TrimSuffix(strings.Repeat("(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?),", perInsert), ",")
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	st, err := tx.Prepare(ins)
	if err != nil {
		return err
	}
	args := make([]any, 0, 15*perInsert)
	var body strings.Builder
	for i := 0; i < n; i++ {
		c := convs[sort.SearchFloat64s(cum, r.Float64()*total)]
		body.Reset()
		for k := 3 + int(math.Abs(r.NormFloat64()*6)); k > 0; k-- {
			if body.Len() > 0 {
				body.WriteByte(' ')
			}
			body.WriteString(vocabulary[zipf.Uint64()])
		}
		ts := begin + int64(float64(i)/float64(n)*float64(end-begin))
		rec := ts
		if r.Intn(50) == 0 {
			// Brought in later from an archive: stored after messages
			// sent after it.
			ts -= r.Int63n(30 * 24 * 3600 * 1e6)
		}
		dir, from, to, nick, occ, origin, state := "in", c.Peer+"/phone", Account+"/gab", "", "", "", ""
		if c.Kind == "room" {
			k := r.Intn(len(nicks))
			nick, occ = nicks[k], fmt.Sprintf("occ%02d", k)
			from, to = c.Peer+"/"+nick, Account+"/gab"
			if k == 0 {
				dir, nick = "out", "Me"
			}
		} else if r.Intn(10) < 4 {
			dir, from, to = "out", Account+"/gab", c.Peer
		}
		if dir == "out" {
			origin, state = fmt.Sprintf("o%09d", i), "displayed"
		}
		args = append(args, c.Peer, dir, from, to, body.String(), "", fmt.Sprintf("s%09d", i), ts, rec,
			origin, state, fmt.Sprintf("a%011x", int64(i)*2654435761), c.Kind, nick, occ)
		if len(args) < cap(args) && i < n-1 {
			continue
		}
		if len(args) < cap(args) {
			// The last, short statement.
			m := len(args) / 15
			if _, err := tx.Exec(`INSERT INTO messages `+cols+` VALUES `+strings.TrimSuffix(strings.Repeat("(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?),", m), ","), args...); err != nil {
				return err
			}
		} else if _, err := st.Exec(args...); err != nil {
			return err
		}
		args = args[:0]
		if (i+1)%100000 == 0 {
			st.Close()
			if err := tx.Commit(); err != nil {
				return err
			}
			if tx, err = db.Begin(); err != nil {
				return err
			}
			if st, err = tx.Prepare(ins); err != nil {
				return err
			}
		}
	}
	st.Close()
	if err := tx.Commit(); err != nil {
		return err
	}
	_, err = db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}
