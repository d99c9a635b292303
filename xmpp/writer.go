package xmpp

import (
	"bytes"
	"net"
	"sync"
	"time"
)

// Writer serialises elements onto a connection. It is safe for concurrent
// senders: each element is written whole, under a lock, with a deadline so a
// stalled server cannot block senders forever.
type Writer struct {
	mu      sync.Mutex
	conn    net.Conn
	timeout time.Duration
	buf     bytes.Buffer
	tap     *Tap
}

// NewWriter writes to conn, giving each write timeout to complete.
func NewWriter(conn net.Conn, timeout time.Duration) *Writer {
	return &Writer{conn: conn, timeout: timeout}
}

// Send writes one element in the jabber:client default namespace.
func (w *Writer) Send(el *Element) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Reset()
	el.AppendXML(&w.buf, NSClient)
	return w.write(w.buf.Bytes())
}

// Raw writes s as it is: stream headers and the closing tag.
func (w *Writer) Raw(s string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.write([]byte(s))
}

func (w *Writer) write(p []byte) error {
	if w.timeout > 0 {
		w.conn.SetWriteDeadline(time.Now().Add(w.timeout))
	}
	w.tap.log("SEND", p)
	_, err := w.conn.Write(p)
	return err
}

// closeStream writes the closing tag, waiting at most two seconds: a
// stalled server must not hold up shutting down.
func (w *Writer) closeStream() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.timeout = 2 * time.Second
	w.write([]byte("</stream:stream>"))
}
