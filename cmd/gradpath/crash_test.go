package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/postgres"
	"github.com/gradpath/gradpath/internal/sqlite"
	"github.com/gradpath/gradpath/internal/sqlstore"
	"github.com/gradpath/gradpath/internal/storetest"
)

// TestCrashLosesNoLead kills the server with SIGKILL again and again while clients stream lead
// requests, each with its own Idempotency-Key and retried with that key until it is answered
// (as a browser form with a retry would). Afterwards every acknowledged lead is in the database
// exactly once, and no request made two leads.
func TestCrashLosesNoLead(t *testing.T) {
	t.Parallel()
	if testing.Short() && os.Getenv("CI") == "" {
		t.Skip("kills a server 20 times; runs without -short and always in CI")
	}
	t.Run("sqlite", func(t *testing.T) {
		data := filepath.Join(t.TempDir(), "data")
		crashLoop(t, nil, []string{"--data", data}, func() *sqlstore.DB {
			db, err := sqlite.Open(context.Background(), data, storetest.Clock, nil)
			if err != nil {
				t.Fatal(err)
			}
			return db
		})
	})
	t.Run("postgres", func(t *testing.T) {
		url := storetest.PostgresURL(t)
		crashLoop(t, []string{"GRADPATH_DATABASE_URL=" + url}, nil, func() *sqlstore.DB {
			db, err := postgres.Open(context.Background(), url, storetest.Clock, nil)
			if err != nil {
				t.Fatal(err)
			}
			return db
		})
	})
}

const crashKills = 20

func crashLoop(t *testing.T, env, args []string, open func() *sqlstore.DB) {
	args = append(args, "--lead-rate-limit", "0", "--log-level", "warn", "--form-min-age", "0s")
	var current atomic.Pointer[string]
	s := startBinary(t, env, args...)
	current.Store(&s.url)

	var (
		mu    sync.Mutex
		acked = map[string]string{} // phone → lead id answered with 201
		sent  atomic.Int64
		// retried: requests that met a dead server; replayed: answered from the stored first
		// answer, that is committed before the kill and answered after it.
		retried, replayed atomic.Int64
		stop              atomic.Bool
		wg                sync.WaitGroup
	)
	client := &http.Client{Timeout: 10 * time.Second}
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				phone := fmt.Sprintf("+9198%02d%06d", w, i)
				key := fmt.Sprintf("crash-%d-%d", w, i)
				// A form token, as the page would embed it; the server may be down a moment.
				token := ""
				for attempt := 0; token == ""; attempt++ {
					if attempt > 2000 {
						t.Errorf("no form token after %d attempts", attempt)
						return
					}
					res, err := client.Get(*current.Load() + "/api/v1/leads/form-token")
					if err == nil {
						var ft struct {
							Token string `json:"form_token"`
						}
						json.NewDecoder(res.Body).Decode(&ft)
						res.Body.Close()
						token = ft.Token
					}
					if token == "" {
						time.Sleep(10 * time.Millisecond)
					}
				}
				body := fmt.Sprintf(`{"kind": "callback", "name": "Student %d-%d", "phone": %q, "form_token": %q, "consent": {"contact": true, "notice_version": "v1"}}`, w, i, phone, token)
				sent.Add(1)
				for attempt := 0; ; attempt++ {
					req, _ := http.NewRequest("POST", *current.Load()+"/api/v1/leads", strings.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Idempotency-Key", key)
					res, err := client.Do(req)
					if err != nil {
						if attempt == 0 {
							retried.Add(1)
						}
						if attempt > 2000 {
							t.Errorf("%s: no answer after %d attempts: %v", key, attempt, err)
							return
						}
						time.Sleep(10 * time.Millisecond) // the server is down; retry with the same key
						continue
					}
					b, _ := io.ReadAll(res.Body)
					res.Body.Close()
					if res.StatusCode == 503 {
						time.Sleep(10 * time.Millisecond)
						continue
					}
					if res.StatusCode != 201 {
						t.Errorf("%s: %d %s", key, res.StatusCode, b)
						return
					}
					if res.Header.Get("Idempotent-Replayed") == "true" {
						replayed.Add(1)
					}
					var r struct{ ID string }
					if json.Unmarshal(b, &r) != nil || r.ID == "" {
						// A cut-off body is not an acknowledgement; retrying settles it.
						continue
					}
					mu.Lock()
					if prev, ok := acked[phone]; ok && prev != r.ID {
						t.Errorf("%s answered with two ids: %s and %s", key, prev, r.ID)
					}
					acked[phone] = r.ID
					mu.Unlock()
					break
				}
			}
		}()
	}

	for kill := 0; kill < crashKills; kill++ {
		time.Sleep(time.Duration(150+rand.IntN(250)) * time.Millisecond)
		s.kill()
		err := <-s.done
		s.done <- err // for the cleanup
		s = startBinary(t, env, args...)
		current.Store(&s.url)
	}
	time.Sleep(300 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	s.kill()
	err := <-s.done
	s.done <- err

	db := open()
	defer db.Close()
	_, read := db.Pools()
	rows, err := read.Query(`SELECT phone, id FROM leads`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	stored := map[string][]string{}
	for rows.Next() {
		var phone, id string
		if err := rows.Scan(&phone, &id); err != nil {
			t.Fatal(err)
		}
		stored[phone] = append(stored[phone], id)
	}
	lost, doubled := 0, 0
	for phone, id := range acked {
		if ids := stored[phone]; len(ids) == 0 || ids[0] != id {
			lost++
			t.Errorf("acknowledged lead %s (%s) is not in the database: %v", id, phone, ids)
		}
	}
	for phone, ids := range stored {
		if len(ids) > 1 {
			doubled++
			t.Errorf("%s was stored %d times: %v", phone, len(ids), ids)
		}
	}
	t.Logf("%d kills, %d requests (%d met a dead server, %d answered by replay), %d acknowledged, %d stored: %d lost, %d doubled",
		crashKills, sent.Load(), retried.Load(), replayed.Load(), len(acked), len(stored), lost, doubled)
	if retried.Load() == 0 {
		t.Fatal("no request met a killed server: the test proved little")
	}
	if len(acked) < 100 {
		t.Fatalf("only %d leads were acknowledged: the test proved little", len(acked))
	}
}
