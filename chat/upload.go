package chat

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gab-chat/gab/xmpp"
)

// HTTP File Upload (XEP-0363) and out-of-band data (XEP-0066).
//
// An upload runs on a goroutine of its own, owned by the client: the
// command queue, the reader and the interface never wait for it. It finds
// the upload service (once per session), refuses a file over the
// service's limit before asking for anything, asks for a slot, PUTs the
// file over HTTPS with the account's trust (the system's authorities, the
// account's ca_file and its pinned certificate), reporting UploadProgress
// at most uploadTicks times a second, and then hands the URL back to Run's
// goroutine (uploadFinished), which sends it through the outbox like any
// message, with an <x xmlns='jabber:x:oob'/> element, and gives the command
// its one answer.
const NSUpload = "urn:xmpp:http:upload:0"

// ErrUploadCancelled is what an upload stopped by CancelUpload (or by
// the client stopping) fails with (errors.Is).
var ErrUploadCancelled = errors.New("upload cancelled")

type cancelledError struct{ name string }

func (e cancelledError) Error() string { return "upload of " + e.name + " cancelled" }
func (e cancelledError) Unwrap() error { return ErrUploadCancelled }

// uploadTick is the least time between two UploadProgress events of one
// upload (at most ten a second).
const uploadTick = 100 * time.Millisecond

// expectContinueFrom is the size from which an upload asks the server to
// accept it before the body goes (Expect: 100-continue), as curl does.
const expectContinueFrom = 1 << 20

// rateWindow is how far back the rate of an upload is measured.
const rateWindow = 3 * time.Second

// uploadService is what is known of our server's upload service in one
// session.
type uploadService struct {
	sess *xmpp.Session // the session it was found in; another asks again
	jid  string        // "" when the server has none
	max  int64         // the largest file it takes, 0 when it does not say
}

// uploads are the uploads under way, by command ID.
type uploads struct {
	mu      sync.Mutex
	cancels map[uint64]context.CancelFunc
	wg      sync.WaitGroup
	service uploadService
}

// uploadFinished brings an upload's outcome back to Run's goroutine, which
// sends the message (file set) or gives the failure as the command's answer.
type uploadFinished struct {
	cmd  UploadFile
	file *FileInfo
	err  error
}

func (uploadFinished) isCommand() {}

// uploadLocal answers the commands about uploads, whether a session is up,
// being set up or not: cancelling one, and an upload's outcome (its
// message waits in the outbox when offline). sess is nil offline. It
// reports whether q was one of them.
func (c *Client) uploadLocal(ctx context.Context, sess *xmpp.Session, q queued) bool {
	if c.fetchLocal(ctx, q) {
		return true
	}
	switch cmd := q.cmd.(type) {
	case CancelUpload:
		c.uploads.mu.Lock()
		cancel := c.uploads.cancels[cmd.Upload]
		c.uploads.mu.Unlock()
		if cancel == nil {
			c.emit(ctx, CommandFailed{ID: q.id, Command: q.cmd, Err: errors.New("no such upload under way")})
			return true
		}
		cancel()
		c.emit(ctx, CommandDone{ID: q.id, Command: q.cmd})
		return true
	case uploadFinished:
		if cmd.err != nil {
			c.emit(ctx, CommandFailed{ID: q.id, Command: cmd.cmd, Err: cmd.err})
			return true
		}
		if cmd.cmd.Encrypt {
			m, err := c.sendEncryptedFile(ctx, sess, q.id, cmd.cmd.Conv, cmd.file)
			if err != nil {
				// The service holds the ciphertext; its key goes nowhere.
				c.emit(ctx, CommandFailed{ID: q.id, Command: cmd.cmd, Err: fmt.Errorf("%s was uploaded encrypted, but the message sharing it could not be encrypted, so nothing was sent: %w", cmd.file.Name, err)})
				return true
			}
			c.emit(ctx, CommandDone{ID: q.id, Command: cmd.cmd})
			if err := c.transmit(sess, m, func(ev Event) { c.emit(ctx, ev) }); err != nil {
				return true // it stays in the outbox for the next session
			}
			return true
		}
		m, err := c.enqueueFile(ctx, q.id, SendMessage{Conv: cmd.cmd.Conv, Body: cmd.file.URL}, cmd.file)
		if err != nil {
			c.emit(ctx, CommandFailed{ID: q.id, Command: cmd.cmd, Err: fmt.Errorf("%s was uploaded to %s but the message could not be sent: %w", cmd.file.Name, cmd.file.URL, err)})
			return true
		}
		c.emit(ctx, CommandDone{ID: q.id, Command: cmd.cmd})
		if sess != nil {
			if err := c.transmit(sess, m, func(ev Event) { c.emit(ctx, ev) }); err != nil {
				return true // it stays in the outbox for the next session
			}
		}
		return true
	}
	return false
}

// startUpload checks what it can at once (the conversation, the file) and
// starts the upload's goroutine. Run's goroutine, with a live session.
func (c *Client) startUpload(ctx context.Context, sess *xmpp.Session, id uint64, cmd UploadFile) error {
	if _, _, err := cmd.Conv.address(); err != nil {
		return err
	}
	if cmd.Conv.Kind != KindChat {
		c.state.Lock()
		_, in := c.rooms[cmd.Conv.Room()]
		c.state.Unlock()
		if !in {
			return fmt.Errorf("you are not in %s: /join it first", cmd.Conv.Room())
		}
	}
	if cmd.Encrypt {
		if err := c.checkEncryptedUpload(ctx, sess, cmd); err != nil {
			return err
		}
	}
	f, size, err := openUpload(cmd.Path)
	if err != nil {
		return err
	}
	caFile := c.login.CAFile // Run's goroutine's to read
	uctx, cancel := context.WithCancel(ctx)
	c.uploads.mu.Lock()
	if c.uploads.cancels == nil {
		c.uploads.cancels = map[uint64]context.CancelFunc{}
	}
	c.uploads.cancels[id] = cancel
	c.uploads.wg.Add(1)
	c.uploads.mu.Unlock()
	go func() {
		defer c.uploads.wg.Done()
		defer f.Close()
		file, err := c.upload(ctx, uctx, sess, id, cmd, f, size, caFile)
		c.uploads.mu.Lock()
		delete(c.uploads.cancels, id)
		c.uploads.mu.Unlock()
		cancel()
		c.requeue(id, uploadFinished{cmd: cmd, file: file, err: err})
	}()
	return nil
}

// emitLast emits an upload's last event: at once when the channel has
// room, even when the client is stopping (the last event is not left to
// chance), else as emit does.
func (c *Client) emitLast(run context.Context, ev Event) {
	select {
	case c.events <- ev:
	default:
		c.emit(run, ev)
	}
}

// stopUploads cancels the uploads under way and waits for their
// goroutines. Run calls it before it returns.
func (c *Client) stopUploads() {
	c.uploads.mu.Lock()
	for _, cancel := range c.uploads.cancels {
		cancel()
	}
	c.uploads.mu.Unlock()
	c.uploads.wg.Wait()
}

// openUpload opens the file to upload and returns its size.
func openUpload(path string) (*os.File, int64, error) {
	if strings.TrimSpace(path) == "" {
		return nil, 0, errors.New("no file given")
	}
	f, err := os.Open(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, 0, fmt.Errorf("cannot read %s: %v", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("cannot read %s: %v", path, err)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("%s is not a file", path)
	}
	if st.Size() == 0 {
		f.Close()
		return nil, 0, fmt.Errorf("%s is empty: nothing to upload", path)
	}
	return f, st.Size(), nil
}

// upload does the network part on the upload's goroutine and returns the
// file as shared. It emits the UploadProgress events, the last one Done.
//
// ctx is the upload's own (cancelled by CancelUpload); run is the client's,
// for the last event, which is emitted even after a cancellation.
func (c *Client) upload(run, ctx context.Context, sess *xmpp.Session, id uint64, cmd UploadFile, f *os.File, size int64, caFile string) (*FileInfo, error) {
	name := filepath.Base(cmd.Path)
	plainSize := size
	var body io.Reader = f
	var iv, key []byte
	if cmd.Encrypt {
		// Encrypted before anything goes: the service gets the
		// ciphertext and its tag, of their size, as bytes of no type.
		ct, v, k, err := sealFile(f, size, crand.Reader)
		if err != nil {
			err = fmt.Errorf("cannot encrypt %s: %w", name, err)
			c.emitLast(run, UploadProgress{CommandID: id, Conv: cmd.Conv, Name: name, Total: size, Done: true, Err: err})
			return nil, err
		}
		body, size, iv, key = bytes.NewReader(ct), int64(len(ct)), v, k
	}
	p := UploadProgress{CommandID: id, Conv: cmd.Conv, Name: name, Total: size}
	fail := func(err error) (*FileInfo, error) {
		if ctx.Err() != nil {
			err = cancelledError{name}
			p.Cancelled = true
		}
		p.Done, p.Err, p.Rate = true, err, 0
		c.emitLast(run, p)
		return nil, err
	}
	// Started, 0 of Total: from now it shows, and can be cancelled while
	// the service is asked for (a silent server takes its answer time).
	c.emit(ctx, p)
	svc, err := c.findUploadService(ctx, sess)
	if err != nil {
		return fail(err)
	}
	if svc.jid == "" {
		return fail(errors.New("your server offers no file upload service (XEP-0363)"))
	}
	if svc.max > 0 && size > svc.max {
		return fail(fmt.Errorf("%s is %s, more than the %s your server's upload service takes", name, ByteSize(size), ByteSize(svc.max)))
	}
	// The media type alone ("text/plain", not "; charset=utf-8"): what
	// the slot request names (XEP-0363 §4) and the PUT must repeat.
	ctype, _, _ := mime.ParseMediaType(mime.TypeByExtension(filepath.Ext(name)))
	if ctype == "" || cmd.Encrypt {
		ctype = "application/octet-stream"
	}
	slot, err := c.requestSlot(ctx, sess, svc.jid, name, size, ctype)
	if err != nil {
		return fail(err)
	}
	link := ""
	if cmd.Encrypt {
		if link, err = encryptedLink(slot.get, iv, key); err != nil {
			return fail(err)
		}
	}
	if err := c.put(ctx, slot, body, size, ctype, caFile, &p); err != nil {
		return fail(err)
	}
	// The point of no return: from here a CancelUpload finds no upload
	// under way; one that came before it is honoured (no message).
	c.uploads.mu.Lock()
	delete(c.uploads.cancels, id)
	c.uploads.mu.Unlock()
	if ctx.Err() != nil {
		return fail(ctx.Err())
	}
	p.Sent, p.Done, p.URL = size, true, slot.get
	c.emitLast(run, p)
	if cmd.Encrypt {
		return &FileInfo{URL: link, Name: name, Size: plainSize}, nil
	}
	return &FileInfo{URL: slot.get, Name: name, Size: size, Type: ctype}, nil
}

// findUploadService finds our server's upload service: the first of its
// items (disco#items) whose disco#info has the feature, and the limit its
// form states (XEP-0363 §3, XEP-0128). A service found is kept for the
// session.
func (c *Client) findUploadService(ctx context.Context, sess *xmpp.Session) (uploadService, error) {
	c.uploads.mu.Lock()
	svc := c.uploads.service
	c.uploads.mu.Unlock()
	if svc.sess == sess && sess != nil {
		return svc, nil
	}
	svc = uploadService{sess: sess}
	res, err := c.iqTo(ctx, sess, c.acct.JID.Domainpart(), "get", xmpp.E(NSDiscoItems, "query"))
	if err != nil {
		return svc, fmt.Errorf("could not ask your server for its upload service: %w", err)
	}
	for _, to := range serviceItems(res) {
		info, err := c.iqTo(ctx, sess, to, "get", xmpp.E(NSDiscoInfo, "query"))
		if ctx.Err() != nil {
			return svc, ctx.Err()
		}
		if err != nil {
			continue
		}
		if s, ok := uploadInfo(info.Child(NSDiscoInfo, "query")); ok {
			svc.jid, svc.max = to, s
			break
		}
	}
	if svc.jid == "" {
		// Not kept: a lookup that went unanswered may have hidden it, and
		// the next /upload asks again (at the user's pace, a few queries).
		return svc, nil
	}
	c.uploads.mu.Lock()
	c.uploads.service = svc
	c.uploads.mu.Unlock()
	return svc, nil
}

// uploadInfo reads a disco#info answer: whether it is an upload service,
// and its max-file-size (0 when it states none).
func uploadInfo(q *xmpp.Element) (max int64, ok bool) {
	if q == nil {
		return 0, false
	}
	for _, f := range q.ChildrenIn(NSDiscoInfo) {
		if f.Name.Local == "feature" && f.Get("var") == NSUpload {
			ok = true
		}
	}
	if !ok {
		return 0, false
	}
	for _, x := range q.ChildrenIn(NSForms) {
		if x.Name.Local != "x" {
			continue
		}
		form := parseForm(x)
		if formValue(form, "FORM_TYPE") != NSUpload {
			continue
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(formValue(form, "max-file-size")), 10, 64); err == nil && n > 0 {
			max = n
		}
	}
	return max, true
}

func formValue(f Form, v string) string {
	for _, ff := range f.Fields {
		if ff.Var == v && len(ff.Values) > 0 {
			return ff.Values[0]
		}
	}
	return ""
}

// slot is where a file goes (put, with headers) and where others fetch it.
type slot struct {
	put     string
	headers http.Header
	get     string
}

// requestSlot asks the service for a slot (XEP-0363 §4).
func (c *Client) requestSlot(ctx context.Context, sess *xmpp.Session, service, name string, size int64, ctype string) (slot, error) {
	req := xmpp.E(NSUpload, "request", "filename", name, "size", strconv.FormatInt(size, 10), "content-type", ctype)
	res, err := c.iqTo(ctx, sess, service, "get", req)
	if err != nil {
		var se *xmpp.StanzaError
		if errors.As(err, &se) && se.Condition == "not-acceptable" {
			return slot{}, fmt.Errorf("the upload service refused %s (%s): %w", name, ByteSize(size), err)
		}
		return slot{}, fmt.Errorf("the upload service gave no slot for %s: %w", name, err)
	}
	return parseSlot(res)
}

// parseSlot reads the service's answer: both URLs must be https, in
// printable ASCII, and of the PUT's headers only Authorization, Cookie and
// Expires are kept, without line breaks (XEP-0363 §4).
func parseSlot(res *xmpp.Element) (slot, error) {
	s := res.Child(NSUpload, "slot")
	if s == nil {
		return slot{}, errors.New("the upload service answered without a slot")
	}
	put, get := s.Child(NSUpload, "put"), s.Child(NSUpload, "get")
	if put == nil || get == nil {
		return slot{}, errors.New("the upload service's slot lacks its put or get URL")
	}
	out := slot{put: put.Get("url"), get: get.Get("url"), headers: http.Header{}}
	for _, u := range []string{out.put, out.get} {
		// A URL is printable ASCII (RFC 3986; the rest percent-encoded);
		// the get URL becomes our message's body, where a space would cut
		// the link short and a direction override disguise it.
		if strings.IndexFunc(u, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0 {
			return slot{}, fmt.Errorf("the upload service's slot URL %q holds characters a URL may not hold", u)
		}
		if p, err := url.Parse(u); err != nil || p.Scheme != "https" || p.Host == "" {
			return slot{}, fmt.Errorf("the upload service's slot is not an https URL (%q): gab uploads only over HTTPS", u)
		}
	}
	for _, h := range put.ChildrenIn(NSUpload) {
		if h.Name.Local != "header" {
			continue
		}
		switch name := http.CanonicalHeaderKey(h.Get("name")); name {
		case "Authorization", "Cookie", "Expires":
			v := strings.Map(func(r rune) rune {
				if r == '\r' || r == '\n' {
					return -1
				}
				return r
			}, h.Text)
			out.headers.Set(name, v)
		}
	}
	return out, nil
}

// put sends the file to the slot, emitting progress into p.
func (c *Client) put(ctx context.Context, s slot, f io.Reader, size int64, ctype, caFile string, p *UploadProgress) error {
	pool, err := c.httpRoots(caFile)
	if err != nil {
		return err
	}
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:   true,
		TLSHandshakeTimeout: c.opts.IQTimeout,
		// As curl does (and with its timeout): a big file waits for the
		// server's 100 Continue. Prosody's file share answers it, and then
		// takes the body as fast as curl's; sent at once, it took it at
		// about 0.7 of curl's rate (docs/benchmarks.md).
		ExpectContinueTimeout: time.Second,
	}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var body io.Reader = io.LimitReader(f, size)

	if c.opts.UploadBody != nil {
		body = c.opts.UploadBody(body)
	}
	// A service that stops taking the file (nothing read of it, or no
	// answer, for the client's answer time) ends the request: the timer
	// starts with the first read and each read starts it again.
	rctx, cancelReq := context.WithCancelCause(ctx)
	defer cancelReq(nil)
	stall := time.AfterFunc(c.opts.IQTimeout, func() { cancelReq(errStalled) })
	stall.Stop()
	defer stall.Stop()
	pr := &progressReader{r: body, ctx: ctx, p: p, emit: c.emit, start: time.Now(), read: func() { stall.Reset(c.opts.IQTimeout) }}
	// The HTTP client waits for a read under way to return even when the
	// request is cancelled: closing the body ends a read that waits.
	stop := context.AfterFunc(rctx, func() { pr.Close() })
	defer stop()
	req, err := http.NewRequestWithContext(rctx, http.MethodPut, s.put, pr)
	if err != nil {
		return err
	}
	req.ContentLength = size
	req.Header = s.headers.Clone()
	req.Header.Set("Content-Type", ctype)
	if size >= expectContinueFrom {
		req.Header.Set("Expect", "100-continue")
	}
	res, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if context.Cause(rctx) == errStalled && pr.sent() == size {
			return fmt.Errorf("upload of %s stalled: the upload service took the whole file but gave no answer for %s", p.Name, c.opts.IQTimeout)
		}
		if context.Cause(rctx) == errStalled {
			return fmt.Errorf("upload of %s stalled after %s of %s: the upload service took nothing more for %s", p.Name, ByteSize(pr.sent()), ByteSize(size), c.opts.IQTimeout)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("upload of %s failed after %s of %s: %v", p.Name, ByteSize(pr.sent()), ByteSize(size), err)
	}
	defer res.Body.Close()
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusCreated {
		return fmt.Errorf("the upload service refused %s: HTTP %s", p.Name, res.Status)
	}
	return nil
}

// errStalled ends an upload that the service stopped taking.
var errStalled = errors.New("upload stalled")

// httpRoots is the account's trust for HTTPS: the system's authorities,
// its ca_file, and the certificate pinned for its server.
func (c *Client) httpRoots(caFile string) (*x509.CertPool, error) {
	var extra []byte
	if caFile != "" {
		var err error
		if extra, err = os.ReadFile(caFile); err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
	}
	pool, err := xmpp.RootPool(extra)
	if err != nil {
		return nil, fmt.Errorf("ca_file %s: %w", caFile, err)
	}
	if pin, err := c.pinned(); err == nil && pin != nil {
		pool.AddCert(pin)
	}
	return pool, nil
}

// progressReader counts what the HTTP client has read of the file and
// emits UploadProgress at most once per uploadTick. Read runs on the
// HTTP transport's goroutine, one call at a time.
type progressReader struct {
	r     io.Reader
	ctx   context.Context
	p     *UploadProgress
	emit  func(context.Context, Event) bool
	start time.Time
	read  func() // after each read
	mu    sync.Mutex
	n     int64
	last  time.Time
	marks []mark // recent (time, bytes) pairs, for the rate
}

type mark struct {
	t time.Time
	n int64
}

func (r *progressReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	if r.read != nil {
		r.read()
	}
	r.mu.Lock()
	r.n += int64(n)
	now := time.Now()
	due := now.Sub(r.last) >= uploadTick && r.n < r.p.Total
	var ev UploadProgress
	if due {
		r.last = now
		r.marks = append(r.marks, mark{now, r.n})
		for len(r.marks) > 2 && now.Sub(r.marks[0].t) > rateWindow {
			r.marks = r.marks[1:]
		}
		first := mark{r.start, 0}
		if len(r.marks) > 1 && now.Sub(r.start) > rateWindow {
			first = r.marks[0]
		}
		r.p.Sent = r.n
		if dt := now.Sub(first.t).Seconds(); dt > 0 {
			r.p.Rate = float64(r.n-first.n) / dt
		}
		ev = *r.p
	}
	r.mu.Unlock()
	if due {
		r.emit(r.ctx, ev)
	}
	return n, err
}

// Close closes what it reads, if it can be closed: the HTTP client closes
// the body when the upload is cancelled, which ends a read that waits.
func (r *progressReader) Close() error {
	if c, ok := r.r.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

func (r *progressReader) sent() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// ByteSize is a size as people read it: 512 B, 2.1 KB, 5.0 MB (powers of
// 1000, one decimal).
func ByteSize(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f := float64(n)
	for _, u := range []string{"KB", "MB", "GB", "TB"} {
		f /= unit
		if f < unit || u == "TB" {
			return fmt.Sprintf("%.1f %s", f, u)
		}
	}
	return ""
}

// oob is the XEP-0066 element that marks a message as sharing a file.
func oob(f *FileInfo) *xmpp.Element {
	return xmpp.E(NSOOB, "x").Add(xmpp.E(NSOOB, "url").WithText(f.URL))
}
