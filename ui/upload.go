package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gab-chat/gab/chat"
)

// Upload is a file being uploaded (XEP-0363), as the status line shows it.
type Upload struct {
	ID    uint64 // the UploadFile command's
	Conv  chat.Conv
	Name  string
	Sent  int64
	Total int64
	Rate  float64 // bytes per second
}

// applyUpload keeps the account's uploads under way from their progress,
// and puts a failed or cancelled one's outcome in its conversation (a
// finished one is followed by its message). It reports whether ev was an
// upload's.
func (s *State) applyUpload(a *Account, ev chat.Event) bool {
	p, ok := ev.(chat.UploadProgress)
	if !ok {
		return false
	}
	i := 0
	for i < len(a.Uploads) && a.Uploads[i].ID != p.CommandID {
		i++
	}
	if p.Done {
		if i < len(a.Uploads) {
			a.Uploads = append(a.Uploads[:i], a.Uploads[i+1:]...)
		}
		if p.Err == nil {
			s.SetStatus(false, "uploaded %s", plainText(p.Name)) // no longer "uploading"
			return true
		}
		kind, text := LineError, "upload failed: "+p.Err.Error()
		if p.Cancelled {
			kind, text = LineInfo, "upload of "+p.Name+" cancelled"
		}
		if c, _ := s.Find(a.Name, p.Conv); c != nil {
			c.add(Line{Time: s.Now(), Body: text, Kind: kind})
		} else {
			s.Log(kind, "%s", text)
		}
		return true
	}
	if i == len(a.Uploads) {
		a.Uploads = append(a.Uploads, &Upload{ID: p.CommandID, Conv: p.Conv, Name: p.Name})
	}
	u := a.Uploads[i]
	u.Sent, u.Total, u.Rate = p.Sent, p.Total, p.Rate
	return true
}

// uploading is the upload the status line shows and the cancel key
// stops: the oldest of the current tab's account, else of any account;
// more counts the others.
func (s *State) uploading() (acct *Account, u *Upload, more int) {
	cur := s.Current().Account
	for _, a := range s.Accounts {
		for _, up := range a.Uploads {
			if u == nil || (a.Name == cur && acct.Name != cur) {
				if u != nil {
					more++
				}
				acct, u = a, up
				continue
			}
			more++
		}
	}
	return acct, u, more
}

// uploadBarCells is the width of the progress bar.
const uploadBarCells = 10

// uploadText is the status line's account of an upload: "uploading
// NAME ▕████░░░░░░▏ 2.1 of 5.0 MB · 3.4 MB/s · Ctrl+X: cancel", in at most
// cells cells (no limit when cells <= 0). What does not fit gives way: the
// rate first, then the words ("NAME ▕██░░░▏ 2.1/5.0 MB"), then the count of
// other uploads, then the end of the name; the cancel key stays.
func uploadText(acct string, u *Upload, more int, cancelKey string, cells int) string {
	bar := func(n int) string {
		filled := 0
		if u.Total > 0 {
			filled = int(int64(n) * min(u.Sent, u.Total) / u.Total)
		}
		return "▕" + strings.Repeat("█", filled) + strings.Repeat("░", n-filled) + "▏"
	}
	owner := ""
	if acct != "" {
		owner = " (" + shorten(acct, maxTabTitle) + ")"
	}
	long := func(name string) string {
		return fmt.Sprintf("uploading %s%s %s %s", name, owner, bar(uploadBarCells), ofSize(u.Sent, u.Total))
	}
	short := func(name string) string {
		return fmt.Sprintf("%s%s %s %s", name, owner, bar(uploadBarCells/2), strings.Replace(ofSize(u.Sent, u.Total), " of ", "/", 1))
	}
	rate, others := "", ""
	if u.Rate > 0 {
		rate = " · " + chat.ByteSize(int64(u.Rate)) + "/s"
	}
	if more > 0 {
		others = fmt.Sprintf(" · %d more", more)
	}
	tail := " · " + cancelKey + ": cancel"
	name := shorten(u.Name, maxTabTitle)
	for _, text := range []string{long(name) + rate + others + tail, long(name) + others + tail, short(name) + others + tail, short(name) + tail} {
		if cells <= 0 || width(text) <= cells {
			return text
		}
	}
	return short(shorten(u.Name, max(cells-width(short("")+tail), 2))) + tail
}

// ofSize is "2.1 of 5.0 MB": both in the total's unit.
func ofSize(sent, total int64) string {
	t := chat.ByteSize(total)
	num, unit, ok := strings.Cut(t, " ")
	if !ok || unit == "B" {
		return fmt.Sprintf("%d of %s", sent, t)
	}
	div := map[string]float64{"KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}[unit]
	return fmt.Sprintf("%.1f of %s %s", float64(sent)/div, num, unit)
}

// cancelUpload stops the upload the status line shows; false when none is
// under way, so the key goes on.
func (a *App) cancelUpload() bool {
	acct, u, _ := a.state.uploading()
	if u == nil || acct.Client == nil {
		return false
	}
	acct.Client.Do(chat.CancelUpload{Upload: u.ID})
	a.state.SetStatus(false, "cancelling the upload of %s", plainText(u.Name))
	return true
}

// uploadCommand runs "/upload PATH" in the current tab's conversation.
// PATH is the rest of the line: spaces in it may be typed as they are,
// escaped with a backslash, or the whole quoted; ~ is the home directory.
func (a *App) uploadCommand(rest string) {
	fail := func(format string, v ...any) { a.state.SetStatus(true, format, v...) }
	c := a.state.Current()
	if c.IsConsole() {
		fail("/upload works in a conversation's tab: open one first")
		return
	}
	path := expandHome(unescapePath(strings.TrimSpace(rest)))
	if path == "" {
		fail("usage: /upload PATH")
		return
	}
	acct := a.state.Account(c.Account)
	if acct == nil || acct.Client == nil {
		fail("no account")
		return
	}
	if a.state.encrypting(c) {
		// Encrypted before it goes (XEP-0454), never in plain text.
		acct.Client.Do(chat.UploadFile{Conv: c.Conv, Path: path, Encrypt: true})
		a.state.SetStatus(false, "encrypting and uploading %s…", plainText(filepath.Base(path)))
		return
	}
	acct.Client.Do(chat.UploadFile{Conv: c.Conv, Path: path})
	a.state.SetStatus(false, "uploading %s…", plainText(filepath.Base(path)))
}

// unescapePath reads a path as typed: a backslash keeps the next
// character as it is, and quotes (single or double) group what they
// hold; both are removed.
func unescapePath(s string) string {
	var b strings.Builder
	var quote rune
	escaped := false
	for _, r := range s {
		switch {
		case escaped:
			b.WriteRune(r)
			escaped = false
		case r == '\\' && quote != '\'':
			escaped = true
		case quote != 0 && r == quote:
			quote = 0
		case quote == 0 && (r == '\'' || r == '"'):
			quote = r
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// escapePath writes a path so that unescapePath reads it back: a
// backslash before spaces, backslashes and quotes.
func escapePath(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case ' ', '\\', '\'', '"', '\t':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// expandHome turns a leading ~ into the home directory.
func expandHome(p string) string {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return p
	}
	return filepath.Join(home, p[1:])
}

// maxPathCandidates bounds the names Tab offers from one directory.
const maxPathCandidates = 500

// pathCompletion completes the path of "/upload PATH" in line: from, the
// byte where the path starts, and the paths it may become, escaped,
// directories with a trailing slash. When the names that fit share more
// than was typed, that shared start is the one offer. ok is false for
// any other line.
func pathCompletion(line string) (from int, opts []string, ok bool) {
	rest, found := strings.CutPrefix(line, "/upload ")
	if !found || strings.Contains(line, "\n") {
		return 0, nil, false
	}
	from = len(line) - len(strings.TrimLeft(rest, " "))
	typed := unescapePath(line[from:])
	dirPart, prefix := "", typed
	if i := strings.LastIndex(typed, "/"); i >= 0 {
		dirPart, prefix = typed[:i+1], typed[i+1:]
	}
	dir := expandHome(dirPart)
	if dir == "" {
		dir = "."
	}
	if typed == "~" {
		return from, []string{"~/"}, true
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return from, nil, true
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if !strings.HasPrefix(n, prefix) || (strings.HasPrefix(n, ".") && !strings.HasPrefix(prefix, ".")) {
			continue
		}
		isDir := e.IsDir()
		if e.Type()&os.ModeSymlink != 0 {
			if st, err := os.Stat(filepath.Join(dir, n)); err == nil {
				isDir = st.IsDir()
			}
		}
		if isDir {
			n += "/"
		}
		names = append(names, n)
		if len(names) == maxPathCandidates {
			break
		}
	}
	sort.Strings(names)
	if len(names) > 1 {
		if common := commonPrefix(names); len(common) > len(prefix) {
			names = []string{common}
		}
	}
	for _, n := range names {
		opts = append(opts, escapePath(dirPart+n))
	}
	return from, opts, true
}

// commonPrefix is the longest start all of names share, in whole
// characters.
func commonPrefix(names []string) string {
	end := 0
	for i, r := range names[0] {
		c := string(r)
		for _, n := range names[1:] {
			if !strings.HasPrefix(n[min(i, len(n)):], c) || len(n) < i {
				return names[0][:end]
			}
		}
		end = i + len(c)
	}
	return names[0][:end]
}
