package main

import (
	"fmt"
	"path/filepath"
	"testing"
)

// The contact list saved by one run is on screen in the next at once,
// even with the server down, marked as the saved list.
func TestEndToEndSavedContactListWhileServerDown(t *testing.T) {
	bin := buildGab(t)
	srv, cfg, data := meAndPeer(t)
	exit := filepath.Join(t.TempDir(), "exit")
	tm := startTmux(t, fmt.Sprintf("%s --config %s --data %s; echo $? > %s; sleep 30", bin, cfg, data, exit))
	tm.waitFor("me [online] ", "○ Peer")
	tm.quit(exit)

	srv.Stop()
	exit2 := filepath.Join(t.TempDir(), "exit")
	again := startTmux(t, fmt.Sprintf("%s --config %s --data %s; echo $? > %s; sleep 30", bin, cfg, data, exit2))
	again.waitFor("· saved list] ", "○ Peer")
	// Still down: the list is the saved one, not confirmed.
	again.waitFor("connection lost", "· saved list] ")
	again.quit(exit2)
}
