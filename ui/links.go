package ui

import (
	"os/exec"
	"strings"
)

// lineLinks are the links of a message line, in the order they appear:
// their text, which is their URL, and last its encrypted file (shown as
// a file, its link hidden). Other lines have none.
func lineLinks(l *Line) []link {
	if l.Kind != LineIn && l.Kind != LineOut {
		return nil
	}
	links := findLinks(l.Body)
	if secretFile(l.File) {
		links = append(links, link{file: true})
	}
	return links
}

// openNth opens the nth link of the conversation in view counting back
// from the newest (1 = the newest): what /open N does.
func (a *App) openNth(n int) {
	c := a.state.Current()
	seen := 0
	for i := len(c.Lines) - 1; i >= 0; i-- {
		links := lineLinks(&c.Lines[i])
		if seen+len(links) >= n {
			a.openLinks(c, &c.Lines[i], n-seen)
			return
		}
		seen += len(links)
	}
	switch seen {
	case 0:
		a.state.SetStatus(true, "open: no links in this conversation")
	case 1:
		a.state.SetStatus(true, "open: this conversation has one link")
	default:
		a.state.SetStatus(true, "open: this conversation has %d links", seen)
	}
}

// openLinks opens the nth link of the message l of c counting back from
// its last (1 = its last link) with open_command, and says so in the
// status line. Only http and https links are opened; the URL is the
// link's text, handed to the command as one argument of its own. An
// encrypted file is downloaded, decrypted and saved instead.
func (a *App) openLinks(c *Conversation, l *Line, n int) {
	links := lineLinks(l)
	switch {
	case len(links) == 0:
		a.state.SetStatus(true, "open: the message has no links")
		return
	case n < 1 || n > len(links):
		a.state.SetStatus(true, "open: the message has %d link(s)", len(links))
		return
	}
	lk := links[len(links)-n]
	if lk.file {
		a.fetchFile(c, l)
		return
	}
	url := l.Body[lk.start:lk.end]
	if !lk.web {
		a.state.SetStatus(true, "open: only http and https links are opened, not %s", plainText(clip(url, 60)))
		return
	}
	if len(a.openCommand) == 0 {
		a.state.SetStatus(true, "open: no open_command set")
		return
	}
	a.state.SetStatus(false, "opening %s", plainText(clip(url, 80)))
	argv := append(append([]string(nil), a.openCommand...), url)
	go a.runOpen(argv)
}

// runOpen runs the open command on its own goroutine, away from the
// terminal: no stdin, stdout or stderr (the null device) and a session of
// its own, so it can neither read our keys nor draw over the screen. A
// failure is told in the status line.
func (a *App) runOpen(argv []string) {
	cmd := exec.Command(argv[0], argv[1:]...)
	detach(cmd)
	err := cmd.Start()
	if err == nil {
		err = cmd.Wait()
	}
	if err != nil {
		name := argv[0]
		if i := strings.LastIndexByte(name, '/'); i >= 0 {
			name = name[i+1:]
		}
		msg := plainText(clip(name+": "+err.Error(), 200))
		a.post(func() { a.state.SetStatus(true, "open: %s", msg) })
	}
}
