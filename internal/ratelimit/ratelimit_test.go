package ratelimit

import (
	"testing"
	"time"
)

func TestLocal(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := NewLocal(time.Minute, 3, func() time.Time { return now })
	for i := range 3 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("request %d refused within the burst", i+1)
		}
	}
	ok, retry := l.Allow("a")
	if ok || retry <= 0 || retry > time.Minute {
		t.Fatalf("over the burst: %v, retry %v", ok, retry)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Errorf("another key shares the bucket")
	}
	now = now.Add(time.Minute)
	if ok, _ := l.Allow("a"); !ok {
		t.Errorf("no token after a minute")
	}
	if ok, _ := l.Allow("a"); ok {
		t.Errorf("two tokens after a minute")
	}
	now = now.Add(time.Hour)
	l.Allow("c")
	if len(l.buckets) != 1 {
		t.Errorf("%d buckets kept after an hour; full ones should be forgotten", len(l.buckets))
	}
}
