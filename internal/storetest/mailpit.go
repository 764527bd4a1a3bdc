package storetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// MailpitEnv names the mailpit binary, when it is not on PATH or in $HOME/go/bin.
const MailpitEnv = "GRADPATH_TEST_MAILPIT"

// Mailpit is a real SMTP server started for a test, with the HTTP API that reads messages back.
type Mailpit struct {
	SMTP string // host:port
	API  string // http://host:port
}

func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func mailpitBinary() string {
	if p := os.Getenv(MailpitEnv); p != "" {
		return p
	}
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p
	}
	if home, err := os.UserHomeDir(); err == nil {
		if p := filepath.Join(home, "go", "bin", "mailpit"); fileExists(p) {
			return p
		}
	}
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// StartMailpit runs mailpit on free loopback ports until the test ends. Without the binary the
// test is skipped, except in CI, where it fails (.ci/run installs it).
func StartMailpit(t testing.TB) *Mailpit {
	t.Helper()
	bin := mailpitBinary()
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("mailpit is not installed: go install github.com/axllent/mailpit@v1.27.11 (or set %s)", MailpitEnv)
		}
		t.Skipf("mailpit is not installed (go install github.com/axllent/mailpit@v1.27.11); skipping outside CI")
	}
	m := &Mailpit{SMTP: freePort(t)}
	listen := freePort(t)
	m.API = "http://" + listen
	cmd := exec.Command(bin, "--smtp", m.SMTP, "--listen", listen, "--database", filepath.Join(t.TempDir(), "mailpit.db"),
		"--smtp-auth-accept-any", "--smtp-auth-allow-insecure", "--disable-version-check", "--quiet")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start mailpit: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := http.Get(m.API + "/api/v1/messages")
		if err == nil {
			res.Body.Close()
			if c, err := net.DialTimeout("tcp", m.SMTP, time.Second); err == nil {
				c.Close()
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailpit did not start: %v\n%s", err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Message is a message mailpit received.
type Message struct {
	ID      string
	To      []string
	Subject string
	Text    string
}

// WaitFor polls mailpit until a message to `to` whose subject holds `subject` arrives.
func (m *Mailpit) WaitFor(t testing.TB, to, subject string, timeout time.Duration) Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var list struct {
			Messages []struct {
				ID      string
				To      []struct{ Address string }
				Subject string
			}
		}
		if err := getJSON(m.API+"/api/v1/messages", &list); err != nil {
			t.Fatal(err)
		}
		for _, msg := range list.Messages {
			for _, rcpt := range msg.To {
				if strings.EqualFold(rcpt.Address, to) && strings.Contains(msg.Subject, subject) {
					var full struct{ Text string }
					if err := getJSON(m.API+"/api/v1/message/"+msg.ID, &full); err != nil {
						t.Fatal(err)
					}
					return Message{ID: msg.ID, To: []string{rcpt.Address}, Subject: msg.Subject, Text: full.Text}
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no message to %s about %q within %v (mailpit has %d)", to, subject, timeout, len(list.Messages))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func getJSON(url string, v any) error {
	res, err := http.Get(url)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		return fmt.Errorf("GET %s: %s", url, res.Status)
	}
	return json.NewDecoder(res.Body).Decode(v)
}

// Count is how many messages mailpit has received for `to`.
func (m *Mailpit) Count(t testing.TB, to string) int {
	t.Helper()
	var list struct {
		Messages []struct {
			To []struct{ Address string }
		}
	}
	if err := getJSON(m.API+"/api/v1/messages", &list); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, msg := range list.Messages {
		for _, rcpt := range msg.To {
			if strings.EqualFold(rcpt.Address, to) {
				n++
			}
		}
	}
	return n
}
