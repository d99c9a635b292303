package main

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockHistory takes the lock beside an account's history database (its
// path with ".lock"): one gab at a time per account and data directory.
// Two would each store what the server sends both (carbons, the archive)
// and each send what the outbox holds. The lock goes with the process, so
// a crash leaves none behind; release gives it back.
func lockHistory(account, dbPath string) (release func(), err error) {
	f, err := os.OpenFile(dbPath+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock the history of %s: %w", account, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another gab is running with the account %s and the same history (%s): quit it first, or give this one another --data directory", account, dbPath)
		}
		return nil, fmt.Errorf("lock the history of %s: %w", account, err)
	}
	return func() { f.Close() }, nil
}
