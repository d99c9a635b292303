package ui

import (
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/gab-chat/gab/chat"
)

// Encrypted files (XEP-0454) in the interface. An aesgcm:// link holds the
// file's key in its fragment: a message that is nothing but such a link
// (as chat reads it from a decrypted message) shows as its file alone,
// and wherever else such a link is drawn — in a message's text, a quote,
// a notification, a search result — its fragment is hidden. /open (and
// the selection's open action) downloads an encrypted file, decrypts it
// and saves it in the download directory; nothing is opened or run.

// secretFile reports whether f is an encrypted file: its URL is a link
// with the key.
func secretFile(f *chat.FileInfo) bool {
	return f != nil && chat.IsAESGCM(f.URL)
}

// fileBody is the text a line keeps of a message sharing the file f:
// nothing when the message is the encrypted file's link (the file row
// says what it is), else body (drawn with hideKeys).
func fileBody(body string, f *chat.FileInfo) string {
	if secretFile(f) && strings.TrimSpace(body) == f.URL {
		return ""
	}
	return body
}

// hideKeys replaces the fragment (the IV and key) of every aesgcm:// link
// in s with "#…". The scheme is matched without regard to ASCII case in
// s itself: a lowered copy of s may have another length (Ⱥ is 2 bytes, ⱥ
// 3), and offsets found in it do not fit s.
func hideKeys(s string) string {
	i := aesgcmIndex(s)
	if i < 0 {
		return s
	}
	var b strings.Builder
	for ; i >= 0; i = aesgcmIndex(s) {
		end := i + strings.IndexFunc(s[i:]+" ", func(r rune) bool { return r <= ' ' || r == '<' || r == '>' || r == '"' })
		link := s[i:end]
		if h := strings.IndexByte(link, '#'); h >= 0 {
			link = link[:h] + "#…"
		}
		b.WriteString(s[:i])
		b.WriteString(link)
		s = s[end:]
	}
	b.WriteString(s)
	return b.String()
}

// aesgcmIndex is the offset in s of the first "aesgcm://", in any ASCII
// case, or -1.
func aesgcmIndex(s string) int {
	const scheme = "aesgcm://"
next:
	for i := 0; i+len(scheme) <= len(s); i++ {
		for j := 0; j < len(scheme); j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != scheme[j] {
				continue next
			}
		}
		return i
	}
	return -1
}

// downloadDir is where encrypted files are saved: $XDG_DOWNLOAD_DIR
// when it is set, else ~/Downloads.
func downloadDir() string {
	if d := os.Getenv("XDG_DOWNLOAD_DIR"); filepath.IsAbs(d) {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "Downloads"
	}
	return filepath.Join(home, "Downloads")
}

// fetchFile asks the account of c to download, decrypt and save the
// encrypted file of l.
func (a *App) fetchFile(c *Conversation, l *Line) {
	acct := a.state.Account(c.Account)
	if acct == nil || acct.Client == nil {
		a.state.SetStatus(true, "open: no account")
		return
	}
	acct.Client.Do(chat.FetchFile{Conv: c.Conv, URL: l.File.URL, Dir: downloadDir()})
	a.state.SetStatus(false, "downloading %s (encrypted)…", plainText(firstLine(l.File.Name)))
}

// applyFetched puts a download's outcome in its conversation (the
// console when it is not open). It reports whether ev was one.
func (s *State) applyFetched(account string, ev chat.Event) bool {
	e, ok := ev.(chat.FileFetched)
	if !ok {
		return false
	}
	kind, text := LineInfo, "saved "+e.Name+" ("+sizeText(e.Size)+", decrypted) to "+e.Path
	if e.Err != nil {
		kind, text = LineError, "could not save "+e.Name+": "+e.Err.Error()
	} else {
		s.SetStatus(false, "saved %s", plainText(e.Path))
	}
	if c, _ := s.Find(account, e.Conv); c != nil {
		c.add(Line{Time: s.Now(), Body: text, Kind: kind})
	} else {
		s.Log(kind, "%s", text)
	}
	return true
}

// uploadRefused puts "/upload PATH" back in the composer when an
// encrypted upload in the current tab failed (not cancelled) and the
// composer is empty: the file chosen is not lost.
func (a *App) uploadRefused(account string, e chat.CommandFailed) {
	u, ok := e.Command.(chat.UploadFile)
	if !ok || !u.Encrypt || errors.Is(e.Err, chat.ErrUploadCancelled) {
		return
	}
	c := a.state.Current()
	if c.Account != account || c.Conv != u.Conv || a.composer.GetText() != "" {
		return
	}
	a.composer.SetText("/upload "+escapePath(u.Path), true)
}

// noteBody is a message's text for a notification: an encrypted file's
// name, any aesgcm key hidden.
func noteBody(e chat.MessageReceived) string {
	if b := fileBody(e.Body, e.File); b != "" || e.File == nil {
		return hideKeys(b)
	}
	return fileText(e.File)
}
