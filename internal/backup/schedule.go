package backup

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Schedule says when scheduled backups run: every day at a time in the agency's zone
// ("02:30"), or every interval ("6h").
type Schedule struct {
	every time.Duration
	at    time.Duration // since midnight
	loc   *time.Location
}

// ParseSchedule reads a backup_schedule: a time of day, HH:MM, in loc, or a duration of a
// minute or more.
func ParseSchedule(s string, loc *time.Location) (Schedule, error) {
	if t, err := time.Parse("15:04", s); err == nil {
		return Schedule{at: time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, loc: loc}, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return Schedule{}, fmt.Errorf("%q is neither a time of day (02:30, every day in the agency's time zone) nor an interval (6h)", s)
	}
	return Schedule{every: d}, nil
}

// Next is when the first backup after t runs.
func (s Schedule) Next(t time.Time) time.Time {
	if s.every > 0 {
		return t.Add(s.every)
	}
	l := t.In(s.loc)
	day := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, s.loc)
	next := day.Add(s.at)
	if !next.After(t) {
		next = time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, s.loc).Add(s.at)
	}
	return next
}

// namePrefix starts the name of every scheduled backup; the rest is its time, so that names
// sort as times do.
const namePrefix = "gradpath-"

// Scheduled writes one scheduled backup of src into dir, named by its time, and keeps the
// newest keep of them (and nothing half-written): it returns the new backup's path and the
// ones it removed.
func Scheduled(ctx context.Context, src Source, dir string, keep int, now time.Time) (string, []string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, err
	}
	out := filepath.Join(dir, namePrefix+now.UTC().Format("20060102T150405Z"))
	if _, err := Create(ctx, src, out, nil); err != nil {
		return "", nil, err
	}
	removed, err := Prune(dir, keep)
	return out, removed, err
}

// Prune removes all but the newest keep scheduled backups in dir, and leftovers of backups
// that never finished.
func Prune(dir string, keep int) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var whole, removed []string
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || !strings.HasPrefix(name, namePrefix) {
			continue
		}
		if strings.HasSuffix(name, ".partial") {
			removed = append(removed, filepath.Join(dir, name))
			continue
		}
		if _, err := Read(filepath.Join(dir, name)); err == nil {
			whole = append(whole, name)
		}
	}
	slices.Sort(whole)
	if keep > 0 && len(whole) > keep {
		for _, name := range whole[:len(whole)-keep] {
			removed = append(removed, filepath.Join(dir, name))
		}
	}
	for _, p := range removed {
		if err := os.RemoveAll(p); err != nil {
			return removed, err
		}
	}
	return removed, nil
}
