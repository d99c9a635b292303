package xmpp

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Tap copies the raw XML of a stream to a log for troubleshooting. While
// authentication runs, what passes is replaced by a note saying how many
// bytes were left out: SASL exchanges carry the password (PLAIN) or what
// proves knowledge of it (SCRAM).
type Tap struct {
	mu     sync.Mutex
	w      io.Writer
	label  string
	redact atomic.Bool
}

// NewTap logs to w, each line tagged with label (an account).
func NewTap(w io.Writer, label string) *Tap {
	return &Tap{w: w, label: label}
}

func (t *Tap) log(dir string, p []byte) {
	if t == nil || len(p) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	ts := time.Now().Format("15:04:05.000")
	if t.redact.Load() {
		fmt.Fprintf(t.w, "%s %s %s [authentication, %d bytes redacted]\n", ts, t.label, dir, len(p))
		return
	}
	fmt.Fprintf(t.w, "%s %s %s %s\n", ts, t.label, dir, p)
}

// tapReader logs what is read from r as received.
type tapReader struct {
	r   io.Reader
	tap *Tap
}

func (t tapReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.tap.log("RECV", p[:n])
	return n, err
}
