package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// One gab per account's history: a second lock is refused with a message
// naming the account and what to do, and is given once the first goes.
func TestHistoryLockedByOneGab(t *testing.T) {
	db := filepath.Join(t.TempDir(), "me.db")
	release, err := lockHistory("me", db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lockHistory("me", db); err == nil || !strings.Contains(err.Error(), "another gab is running with the account me") {
		t.Fatalf("second lock: %v", err)
	}
	other, err := lockHistory("other", filepath.Join(filepath.Dir(db), "other.db"))
	if err != nil {
		t.Fatalf("another account's history: %v", err)
	}
	other()
	release()
	again, err := lockHistory("me", db)
	if err != nil {
		t.Fatalf("after the first gab: %v", err)
	}
	again()
}
