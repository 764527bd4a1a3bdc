package accounts

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/gradpath/gradpath/internal/gradpath"
)

// hashGate bounds the work of password hashing. argon2id is slow and memory-hard on purpose
// (19 MiB a hash by default), so that an unbounded flood of sign-ins would take the server's
// memory and every processor: at most slots hashes run at once, at most queue more wait, each
// for at most wait, and anything beyond is refused at once as unavailable with a time to
// retry. Memory stays bounded and the rest of the site keeps answering.
type hashGate struct {
	slots   chan struct{}
	waiting atomic.Int32
	queue   int32
	wait    time.Duration
}

// errBusy answers a sign-in that finds every hashing slot and the queue taken.
var errBusy = &gradpath.Error{Code: gradpath.CodeUnavailable, RetryAfter: 2 * time.Second,
	Message: "many people are signing in at this moment; nothing was changed: try again in a few seconds"}

func newHashGate(slots, queue int, wait time.Duration) *hashGate {
	if slots < 1 {
		slots = 1
	}
	if wait <= 0 {
		wait = 3 * time.Second
	}
	return &hashGate{slots: make(chan struct{}, slots), queue: int32(max(queue, 0)), wait: wait}
}

// run runs fn in a slot, waiting in the queue for one if there is room.
func (g *hashGate) run(ctx context.Context, fn func()) error {
	select {
	case g.slots <- struct{}{}:
	default:
		if g.waiting.Add(1) > g.queue {
			g.waiting.Add(-1)
			return errBusy
		}
		t := time.NewTimer(g.wait)
		select {
		case g.slots <- struct{}{}:
			g.waiting.Add(-1)
			t.Stop()
		case <-t.C:
			g.waiting.Add(-1)
			return errBusy
		case <-ctx.Done():
			g.waiting.Add(-1)
			t.Stop()
			return gradpath.Errorf(gradpath.CodeUnavailable, "the request ended before it was its turn")
		}
	}
	defer func() { <-g.slots }()
	fn()
	return nil
}

// hash hashes a password in a slot.
func (s *Service) hash(ctx context.Context, pw string) (string, error) {
	var h string
	var err error
	if gerr := s.hashes.run(ctx, func() { h, err = HashPassword(pw, s.cfg.Argon2) }); gerr != nil {
		return "", gerr
	}
	if err != nil {
		return "", gradpath.Internal(err)
	}
	return h, nil
}

// verify checks a password against a hash in a slot.
func (s *Service) verify(ctx context.Context, pw, hash string) (ok, rehash bool, err error) {
	err = s.hashes.run(ctx, func() { ok, rehash = VerifyPassword(pw, hash, s.cfg.Argon2) })
	return ok, rehash, err
}
