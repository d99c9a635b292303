package chat

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/xmpp"
)

// Encrypted file sharing (XEP-0454, OMEMO Media Sharing).
//
// In an encrypted chat a file is encrypted before it is uploaded:
// AES-256-GCM with a fresh random key and a 12-byte IV, the 16-byte tag
// appended to the ciphertext, which is all the upload service receives.
// The message (encrypted with OMEMO like any other in the chat) is the
// file's address with the https scheme replaced by aesgcm and the IV and
// key in hex as its fragment:
//
//	aesgcm://upload.example/3f/holiday.jpg#<24 hex IV><64 hex key>
//
// No out-of-band element goes with it: it would carry the address in
// plain text. A decrypted message that is nothing but such a link shares
// that file; FetchFile downloads it over HTTPS, checks its tag and saves
// it. A link in a plain-text message is no file: its key travelled in
// the clear, and gab never fetches it.
//
// Both ways the file is held in memory once (AES-GCM in place), up to
// MaxEncryptedFile: GCM tells whether a file is intact only at its end,
// Go's GCM opens a whole message at once, and nothing is written to disk
// before the tag is checked.

// MaxEncryptedFile is the largest encrypted file gab uploads or
// downloads (the plaintext; the ciphertext is 16 bytes more).
const MaxEncryptedFile = 100 << 20

// encryptedLimit is MaxEncryptedFile, lowered by tests.
var encryptedLimit int64 = MaxEncryptedFile

// aesgcmTag is the size of the GCM tag after the ciphertext.
const aesgcmTag = 16

// AESGCMLink is an aesgcm:// link read (XEP-0454): where the encrypted
// file is, and its IV and key.
type AESGCMLink struct {
	HTTPS string // the https URL the file is fetched from (no fragment)
	IV    []byte // 12 bytes (16 from older senders)
	Key   []byte // 32 bytes
}

// ErrNotAESGCM: the text is no aesgcm:// link.
var ErrNotAESGCM = errors.New("not an aesgcm:// link")

// IsAESGCM reports whether u is written as an aesgcm:// link (whether or
// not it is a valid one). Such a link carries a key in its fragment.
func IsAESGCM(u string) bool {
	return len(u) >= len("aesgcm://") && strings.EqualFold(u[:len("aesgcm://")], "aesgcm://")
}

// ParseAESGCM reads an aesgcm:// link. Errors never quote the fragment
// (it is the key).
func ParseAESGCM(link string) (AESGCMLink, error) {
	if !IsAESGCM(link) {
		return AESGCMLink{}, ErrNotAESGCM
	}
	if len(link) > 4096 {
		return AESGCMLink{}, errors.New("the aesgcm link is too long")
	}
	if strings.IndexFunc(link, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0 {
		return AESGCMLink{}, errors.New("the aesgcm link holds characters a URL may not hold")
	}
	rest, frag, ok := strings.Cut(link[len("aesgcm://"):], "#")
	if !ok || frag == "" {
		return AESGCMLink{}, errors.New("the aesgcm link has no key (nothing after #)")
	}
	var ivLen int
	switch len(frag) {
	case 2 * (12 + 32):
		ivLen = 12
	case 2 * (16 + 32):
		ivLen = 16
	default:
		return AESGCMLink{}, fmt.Errorf("the aesgcm link's key part is %d characters, not 88 or 96 (IV and key in hex)", len(frag))
	}
	secret, err := hex.DecodeString(frag)
	if err != nil {
		return AESGCMLink{}, errors.New("the aesgcm link's key part is not hexadecimal")
	}
	https := "https://" + rest
	p, err := url.Parse(https)
	if err != nil || p.Host == "" || p.Fragment != "" || p.User != nil {
		return AESGCMLink{}, errors.New("the aesgcm link names no host")
	}
	return AESGCMLink{HTTPS: https, IV: secret[:ivLen], Key: secret[ivLen:]}, nil
}

// String writes the link: the https URL with the aesgcm scheme, and IV
// and key in lower-case hex as its fragment.
func (l AESGCMLink) String() string {
	rest, _ := strings.CutPrefix(l.HTTPS, "https://")
	return "aesgcm://" + rest + "#" + hex.EncodeToString(l.IV) + hex.EncodeToString(l.Key)
}

// Name is the file's name: the last segment of its path, decoded, with
// controls and direction marks replaced ("" when the path names none).
func (l AESGCMLink) Name() string {
	if f := fileAt(l.HTTPS, true); f != nil {
		return f.Name
	}
	return ""
}

// aesgcmFile is the file a decrypted message shares: nil unless the body
// is one valid aesgcm:// link naming a file. Its URL is the link (with
// the key).
func aesgcmFile(body string) *FileInfo {
	b := strings.TrimSpace(body)
	l, err := ParseAESGCM(b)
	if err != nil {
		return nil
	}
	name := l.Name()
	if name == "" {
		return nil
	}
	return &FileInfo{URL: b, Name: name, Size: -1}
}

// withEncryptedFile sets the file a decrypted message shares (an aesgcm
// link in its text): only a message gab decrypted carries one.
func withEncryptedFile(ev Event) Event {
	switch e := ev.(type) {
	case MessageReceived:
		if e.OMEMO != nil {
			e.File = aesgcmFile(e.Body)
		}
		return e
	case CarbonSent:
		if e.OMEMO != nil {
			e.File = aesgcmFile(e.Body)
		}
		return e
	}
	return ev
}

// decryptIncoming decrypts an OMEMO message (omemoIncoming) and reads
// the file it shares.
func (c *Client) decryptIncoming(ctx context.Context, ev Event) Event {
	d := c.omemoIncoming(ctx, ev)
	if d == nil {
		return nil
	}
	return withEncryptedFile(d)
}

// newAESGCM is AES-256-GCM with an IV of ivLen bytes (12, or 16 for old
// links).
func newAESGCM(key []byte, ivLen int) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("an aesgcm key is 32 bytes, not %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	if ivLen == 12 {
		return cipher.NewGCM(block)
	}
	return cipher.NewGCMWithNonceSize(block, ivLen)
}

// sealFile reads size bytes of plaintext from r and encrypts them in
// place with a fresh key and 12-byte IV from random: the ciphertext with
// its tag, and the key and IV (no link yet: the URL comes with the slot).
func sealFile(r io.Reader, size int64, random io.Reader) (ct, iv, key []byte, err error) {
	if size > encryptedLimit {
		return nil, nil, nil, fmt.Errorf("it is %s: gab encrypts files up to %s", ByteSize(size), ByteSize(encryptedLimit))
	}
	secret := make([]byte, 12+32)
	if _, err := io.ReadFull(random, secret); err != nil {
		return nil, nil, nil, fmt.Errorf("no random key: %w", err)
	}
	iv, key = secret[:12], secret[12:]
	aead, err := newAESGCM(key, 12)
	if err != nil {
		return nil, nil, nil, err
	}
	buf := make([]byte, size, size+aesgcmTag)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, nil, nil, fmt.Errorf("cannot read it: %w", err)
	}
	return aead.Seal(buf[:0], iv, buf, nil), iv, key, nil
}

// openFile decrypts ct (ciphertext and tag) in place and checks its tag.
func openFile(l AESGCMLink, ct []byte) ([]byte, error) {
	if len(ct) < aesgcmTag {
		return nil, fmt.Errorf("the file is %d bytes, too short to be encrypted (the tag alone is 16)", len(ct))
	}
	aead, err := newAESGCM(l.Key, len(l.IV))
	if err != nil {
		return nil, err
	}
	pt, err := aead.Open(ct[:0], l.IV, ct, nil)
	if err != nil {
		return nil, errors.New("the file does not match its key (its tag is wrong): it was altered, cut short, or is not the file sent; nothing was saved")
	}
	return pt, nil
}

// encryptedLink is the message that shares an encrypted upload: the get
// URL as an aesgcm link. A get URL with a fragment of its own cannot be
// written so.
func encryptedLink(get string, iv, key []byte) (string, error) {
	if !strings.HasPrefix(get, "https://") || strings.Contains(get, "#") {
		return "", fmt.Errorf("the upload service's URL cannot carry a key (%q)", get)
	}
	return AESGCMLink{HTTPS: get, IV: iv, Key: key}.String(), nil
}

// checkEncryptedUpload refuses at once, before anything is uploaded, an
// encrypted upload that could not be shared encrypted. Run's goroutine,
// with a live session.
func (c *Client) checkEncryptedUpload(ctx context.Context, sess *xmpp.Session, cmd UploadFile) error {
	if !c.opts.OMEMO {
		return fmt.Errorf("%w: nothing uploaded", errOMEMOOff)
	}
	if cmd.Conv.Kind == KindRoom {
		// The members are checked again when the link is sent.
		if _, err := c.roomOMEMOMembers(cmd.Conv.JID); err != nil {
			return fmt.Errorf("%w: nothing uploaded", err)
		}
		return nil
	}
	if cmd.Conv.Kind != KindChat {
		return errors.New("encrypted files go to chats and rooms, not to a private message in a room: nothing uploaded")
	}
	ids, err := c.omemoDevices(ctx, sess, cmd.Conv.JID, history.OMEMO03)
	ids2, err2 := c.omemoDevices(ctx, sess, cmd.Conv.JID, history.OMEMO2)
	if len(ids)+len(ids2) == 0 && (err != nil || err2 != nil) {
		return fmt.Errorf("%w: nothing uploaded", errors.Join(err, err2))
	}
	if len(ids)+len(ids2) == 0 {
		return fmt.Errorf("%s has no OMEMO device to encrypt to: nothing uploaded; /omemo off shares files in plain text", cmd.Conv.JID)
	}
	return nil
}

// sendEncryptedFile sends the message that shares an encrypted upload,
// encrypted with OMEMO, with the file (its URL the link) for the
// conversation and the store. Run's goroutine, with a live session.
func (c *Client) sendEncryptedFile(ctx context.Context, sess *xmpp.Session, cmdID uint64, conv Conv, file *FileInfo) (*outgoing, error) {
	if sess == nil {
		return nil, errors.New("gab lost the connection before the message could be encrypted")
	}
	if !c.opts.OMEMO {
		return nil, errOMEMOOff
	}
	var enc *OMEMOEncrypted
	var sessions []history.Session
	var err error
	if conv.Kind == KindRoom {
		var members []string
		if members, err = c.roomOMEMOMembers(conv.JID); err != nil {
			return nil, err
		}
		enc, sessions, err = c.omemoEncryptFor(ctx, sess, conv.JID, members, file.URL)
	} else {
		enc, sessions, err = c.omemoEncrypt(ctx, sess, conv.JID, file.URL)
	}
	if err != nil {
		return nil, err
	}
	return c.enqueueWith(ctx, cmdID, SendMessage{Conv: conv, Body: file.URL, Encrypt: true}, file, enc, sessions)
}

// FetchFile downloads the encrypted file of an aesgcm:// link (XEP-0454)
// over HTTPS, checks and decrypts it and saves it in Dir under its name
// (made unique: nothing there is replaced). FileFetched follows, then the
// command's answer. CancelUpload with its command ID stops it.
type FetchFile struct {
	Conv Conv   // where it was shared, for the outcome
	URL  string // the aesgcm:// link
	Dir  string
}

func (FetchFile) isCommand() {}

// FileFetched is the outcome of FetchFile: the file saved at Path (Size
// bytes), or Err.
type FileFetched struct {
	CommandID uint64
	Conv      Conv
	Name      string
	Path      string
	Size      int64
	Err       error
}

func (FileFetched) isEvent() {}

// fetchFinished brings a download's outcome back to Run's goroutine for
// the command's answer.
type fetchFinished struct {
	cmd FetchFile
	err error
}

func (fetchFinished) isCommand() {}

// fetchLocal answers FetchFile (it needs no XMPP session) and a
// download's outcome. It reports whether q was one of them.
func (c *Client) fetchLocal(ctx context.Context, q queued) bool {
	switch cmd := q.cmd.(type) {
	case FetchFile:
		c.startFetch(ctx, q.id, cmd)
		return true
	case fetchFinished:
		if cmd.err != nil {
			c.emit(ctx, CommandFailed{ID: q.id, Command: cmd.cmd, Err: cmd.err})
		} else {
			c.emit(ctx, CommandDone{ID: q.id, Command: cmd.cmd})
		}
		return true
	}
	return false
}

// startFetch starts a download on a goroutine of its own, owned (and
// stopped) as uploads are. Run's goroutine.
func (c *Client) startFetch(ctx context.Context, id uint64, cmd FetchFile) {
	caFile := c.login.CAFile
	fctx, cancel := context.WithCancel(ctx)
	c.uploads.mu.Lock()
	if c.uploads.cancels == nil {
		c.uploads.cancels = map[uint64]context.CancelFunc{}
	}
	c.uploads.cancels[id] = cancel
	c.uploads.wg.Add(1)
	c.uploads.mu.Unlock()
	go func() {
		defer c.uploads.wg.Done()
		ev := FileFetched{CommandID: id, Conv: cmd.Conv}
		if l, err := ParseAESGCM(cmd.URL); err == nil {
			ev.Name = l.Name()
		}
		ev.Path, ev.Size, ev.Err = c.fetch(fctx, cmd, caFile)
		if ev.Err != nil && fctx.Err() != nil {
			ev.Err = fmt.Errorf("download of %s cancelled", ev.Name)
		}
		c.uploads.mu.Lock()
		delete(c.uploads.cancels, id)
		c.uploads.mu.Unlock()
		cancel()
		c.emitLast(ctx, ev)
		c.requeue(id, fetchFinished{cmd: cmd, err: ev.Err})
	}()
}

// fetch downloads, checks, decrypts and saves; it returns where.
func (c *Client) fetch(ctx context.Context, cmd FetchFile, caFile string) (string, int64, error) {
	l, err := ParseAESGCM(cmd.URL)
	if err != nil {
		return "", 0, err
	}
	name := saveName(l.Name())
	pool, err := c.httpRoots(caFile)
	if err != nil {
		return "", 0, err
	}
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:   true,
		TLSHandshakeTimeout: c.opts.IQTimeout,
	}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Scheme != "https" {
			return fmt.Errorf("the server sent the download to %s, which is not https", req.URL.Redacted())
		}
		if len(via) >= 5 {
			return errors.New("the server redirected the download too often")
		}
		return nil
	}}
	// A server that sends nothing for the client's answer time ends the
	// download: the timer starts again with each read.
	rctx, cancelReq := context.WithCancelCause(ctx)
	defer cancelReq(nil)
	stall := time.AfterFunc(c.opts.IQTimeout, func() { cancelReq(errStalled) })
	defer stall.Stop()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, l.HTTPS, nil)
	if err != nil {
		return "", 0, err
	}
	res, err := hc.Do(req)
	if err != nil {
		if context.Cause(rctx) == errStalled {
			return "", 0, fmt.Errorf("download of %s stalled: no answer for %s", name, c.opts.IQTimeout)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", 0, fmt.Errorf("download of %s failed: %v", name, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return "", 0, fmt.Errorf("download of %s refused: HTTP %s", name, res.Status)
	}
	most := encryptedLimit + aesgcmTag
	if res.ContentLength > most {
		return "", 0, fmt.Errorf("%s is %s, more than the %s gab downloads encrypted", name, ByteSize(res.ContentLength-aesgcmTag), ByteSize(encryptedLimit))
	}
	var buf bytes.Buffer
	if res.ContentLength > 0 {
		buf.Grow(int(res.ContentLength))
	}
	body := &stallReader{r: io.LimitReader(res.Body, most+1), reset: func() { stall.Reset(c.opts.IQTimeout) }}
	if _, err := buf.ReadFrom(body); err != nil {
		if context.Cause(rctx) == errStalled {
			return "", 0, fmt.Errorf("download of %s stalled after %s: nothing more came for %s", name, ByteSize(int64(buf.Len())), c.opts.IQTimeout)
		}
		return "", 0, fmt.Errorf("download of %s failed after %s: %v", name, ByteSize(int64(buf.Len())), err)
	}
	stall.Stop()
	if int64(buf.Len()) > most {
		return "", 0, fmt.Errorf("%s is more than the %s gab downloads encrypted", name, ByteSize(encryptedLimit))
	}
	if res.ContentLength >= 0 && int64(buf.Len()) != res.ContentLength {
		return "", 0, fmt.Errorf("download of %s came short: %d of %d bytes", name, buf.Len(), res.ContentLength)
	}
	pt, err := openFile(l, buf.Bytes())
	if err != nil {
		return "", 0, fmt.Errorf("%s: %w", name, err)
	}
	path, err := saveFile(cmd.Dir, name, pt)
	if err != nil {
		return "", 0, fmt.Errorf("could not save %s: %w", name, err)
	}
	return path, int64(len(pt)), nil
}

// stallReader calls reset after each read.
type stallReader struct {
	r     io.Reader
	reset func()
}

func (s *stallReader) Read(b []byte) (int, error) {
	n, err := s.r.Read(b)
	s.reset()
	return n, err
}

// maxSaveName is the most bytes of a name a file is saved under: file
// systems take 255, and saveFile may add " (999)".
const maxSaveName = 200

// saveName is a file name from a link made safe to create: no path
// separators, no leading dots (neither hidden nor ".."), and short
// enough for a file system (cut on a character's boundary, a short
// extension kept).
func saveName(name string) string {
	name = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 {
			return '_'
		}
		return r
	}, name)
	name = strings.TrimLeft(name, ".")
	if strings.TrimSpace(name) == "" {
		return "file"
	}
	if len(name) > maxSaveName {
		ext := filepath.Ext(name)
		if len(ext) > 16 {
			ext = ""
		}
		stem := strings.TrimSuffix(name, ext)[:maxSaveName-len(ext)]
		for !utf8.ValidString(stem) {
			stem = stem[:len(stem)-1]
		}
		name = stem + ext
	}
	return name
}

// saveFile writes data to dir as name, or "name (2).ext" and so on when
// that is taken: first to a temporary file in dir, synced, then linked
// under its name (which fails rather than replace a file), so a file
// with its name is always whole. It returns the path.
func saveFile(dir, name string, data []byte) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, ".gab-download-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	ext := filepath.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	for i := 1; i <= 1000; i++ {
		n := name
		if i > 1 {
			n = fmt.Sprintf("%s (%d)%s", stem, i, ext)
		}
		path := filepath.Join(dir, n)
		err := os.Link(tmp.Name(), path)
		if err == nil {
			return path, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("%s and 999 other names like it are taken in %s", name, dir)
}
