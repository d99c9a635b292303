package histfixture_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/internal/histfixture"
)

func prepare(path string) error {
	s, err := history.Open(path)
	if err != nil {
		return err
	}
	if err := s.IndexAll(context.Background()); err != nil {
		s.Close()
		return err
	}
	return s.Close()
}

// A fixture has the shape the benchmarks rely on, and is built once.
func TestFixtureShape(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	const n = 20000
	path, took, err := histfixture.Build(n, prepare)
	if err != nil {
		t.Fatal(err)
	}
	if took == 0 {
		t.Fatal("built, yet reported as cached")
	}
	if again, took, err := histfixture.Build(n, prepare); err != nil || again != path || took != 0 {
		t.Fatalf("second Build: %s, %v, %v (want the cached %s)", again, took, err, path)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var total, convs, rooms, nicks int
	if err := db.QueryRow(`SELECT count(*), count(DISTINCT peer || kind), count(DISTINCT CASE kind WHEN 'room' THEN peer END), count(DISTINCT nullif(nick, '')) FROM messages`).Scan(&total, &convs, &rooms, &nicks); err != nil {
		t.Fatal(err)
	}
	if total != n || convs < 150 || rooms < 20 || nicks < 30 {
		t.Fatalf("%d messages in %d conversations, %d rooms, %d nicks", total, convs, rooms, nicks)
	}
	// Sizes spread: the busiest conversation holds far more than the median.
	var busiest int
	db.QueryRow(`SELECT max(c) FROM (SELECT count(*) c FROM messages GROUP BY peer, kind)`).Scan(&busiest)
	if busiest < n/10 {
		t.Fatalf("busiest conversation has %d of %d messages", busiest, n)
	}
	s, err := history.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	common, err := s.Search(ctx, histfixture.Common(0), history.Conv{}, 500)
	if err != nil || len(common) != 500 {
		t.Fatalf("common word %q: %d hits, %v", histfixture.Common(0), len(common), err)
	}
	rare, err := s.Search(ctx, histfixture.Rare(0), history.Conv{}, 500)
	if err != nil || len(rare) > 20 {
		t.Fatalf("rare word %q: %d hits, %v", histfixture.Rare(0), len(rare), err)
	}
}
