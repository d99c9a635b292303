package ui

import (
	"errors"

	"github.com/gab-chat/gab/config"
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// ErrSetupCancelled is returned when the user leaves first-run setup.
var ErrSetupCancelled = errors.New("setup cancelled")

// FirstRun asks for an account (JID, password or password command,
// optional server), writes it under configDir with mode 0600 and returns
// the file's path. screen may be nil for the terminal.
func FirstRun(configDir string, screen tcell.Screen) (string, error) {
	buildTheme(nil, noColor()).apply()
	tv := tview.NewApplication()
	if screen != nil {
		tv.SetScreen(screen)
	}
	msg := tview.NewTextView().SetDynamicColors(false).SetWrap(true)
	msg.SetText("No account is configured yet. Fill in yours; the password is stored in a file only you can read.\n" +
		"Prefer a password command (for example: pass show xmpp) to keep it out of the file.")
	var na config.NewAccount
	var path string
	var result error = ErrSetupCancelled
	form := newForm()
	addInput(form, "JID", "", 40, func(s string) { na.JID = s })
	addPassword(form, "Password", 40, func(s string) { na.Password = s })
	addInput(form, "or password command", "", 40, func(s string) { na.PasswordCommand = s })
	addInput(form, "Server (host:port, optional)", "", 40, func(s string) { na.Server = s })
	addButton(form, "Save", func() {
		if na.PasswordCommand != "" {
			na.Password = ""
		}
		p, err := config.WriteAccount(configDir, na)
		if err != nil {
			msg.SetText("Not saved: " + Sanitize(err.Error()))
			return
		}
		path, result = p, nil
		tv.Stop()
	})
	addButton(form, "Quit", func() { tv.Stop() })
	form.SetBorder(true).SetTitle(" gab — first-run setup ")
	form.SetCancelFunc(func() { tv.Stop() })
	layout := tview.NewFlex().SetDirection(tview.FlexRow).
		AddItem(msg, 4, 0, false).
		AddItem(form, 0, 1, true)
	// Ctrl+Q quits here as everywhere in gab.
	tv.SetInputCapture(func(ev *tcell.EventKey) *tcell.EventKey {
		if ev.Key() == tcell.KeyCtrlQ {
			tv.Stop()
			return nil
		}
		return ev
	})
	if err := tv.SetRoot(layout, true).EnableMouse(true).EnablePaste(true).Run(); err != nil {
		return "", err
	}
	return path, result
}
