package storetest

import (
	"strings"
	"sync"
)

// SyncBuffer keeps what a logger or a child process writes, safe to read while it writes.
type SyncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *SyncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *SyncBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
