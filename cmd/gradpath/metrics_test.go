package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// /metrics says how the agency's system is doing: a new lead, the same person again (merged)
// and a script's (ignored) are counted by source and outcome; the SLA breach counter, the job
// queue's figures and the build are there.
func TestAgencyMetrics(t *testing.T) {
	t.Parallel()
	s := start(t, nil, "--demo")
	var first struct{ ID string }
	for i, body := range []string{leadJSON, leadJSON, strings.Replace(leadJSON, `"kind"`, `"website": "http://spam.example", "kind"`, 1)} {
		res, b := s.call(t, "POST", "/api/v1/leads", "application/json", strings.NewReader(s.withToken(t, body)))
		if res.StatusCode != 201 && res.StatusCode != 202 {
			t.Fatalf("lead: %d %s", res.StatusCode, b)
		}
		if i == 0 {
			json.Unmarshal(b, &first)
		}
	}
	// The lead's counsellor calls back: a first contact within the deadline.
	cookie, csrf, _ := s.signIn(t, "counsellor@demo.gradpath.test", s.demoPasswords()["counsellor@demo.gradpath.test"])
	if res, b := s.call(t, "PATCH", "/api/v1/leads/"+first.ID, "application/json", strings.NewReader(`{"status": "contacted"}`),
		"Cookie", cookie, "X-CSRF-Token", csrf); res.StatusCode != 200 {
		t.Fatalf("contacted: %d %s", res.StatusCode, b)
	}
	res, err := http.Get(s.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(res.Body)
	res.Body.Close()
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(text)))
	if err != nil {
		t.Fatalf("/metrics is not the Prometheus text format: %v", err)
	}
	value := func(name string, labels map[string]string) (float64, bool) {
		mf := families[name]
		if mf == nil {
			return 0, false
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if want, ok := labels[l.GetName()]; ok && want != l.GetValue() {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				return m.GetCounter().GetValue(), true
			case m.Gauge != nil:
				return m.GetGauge().GetValue(), true
			case m.Histogram != nil:
				return float64(m.GetHistogram().GetSampleCount()), true
			}
		}
		return 0, false
	}
	for outcome, want := range map[string]float64{"created": 1, "merged": 1, "ignored": 1} {
		if got, _ := value("gradpath_leads_received_total", map[string]string{"source": "callback", "outcome": outcome}); got != want {
			t.Errorf("gradpath_leads_received_total{source=callback,outcome=%s} = %v, want %v", outcome, got, want)
		}
	}
	if got, _ := value("gradpath_lead_first_contact_seconds", map[string]string{"within_sla": "true"}); got != 1 {
		t.Errorf("gradpath_lead_first_contact_seconds{within_sla=true} counts %v first contacts, want 1", got)
	}
	for _, outcome := range []string{"made", "cancelled", "completed", "no_show"} {
		if _, ok := value("gradpath_bookings_total", map[string]string{"type": "consultation", "outcome": outcome}); !ok {
			t.Errorf("no gradpath_bookings_total{type=consultation,outcome=%s}", outcome)
		}
	}
	if age, ok := value("gradpath_finder_index_age_seconds", nil); !ok || age < 0 || age > 600 {
		t.Errorf("gradpath_finder_index_age_seconds = %v (%v)", age, ok)
	}
	if took, ok := value("gradpath_finder_index_build_seconds", nil); !ok || took <= 0 {
		t.Errorf("gradpath_finder_index_build_seconds = %v (%v)", took, ok)
	}
	if _, ok := value("gradpath_sla_breaches_total", nil); !ok {
		t.Error("no gradpath_sla_breaches_total")
	}
	if mf := families["gradpath_build_info"]; mf == nil || mf.GetMetric()[0].GetGauge().GetValue() != 1 {
		t.Errorf("gradpath_build_info: %v", mf)
	}
	if _, ok := families["gradpath_jobs_queued"]; !ok {
		t.Error("no gradpath_jobs_queued: the demo's periodic jobs are queued")
	}
	if _, ok := families["gradpath_jobs_oldest_age_seconds"]; !ok {
		t.Error("no gradpath_jobs_oldest_age_seconds")
	}
	for name := range families {
		if !strings.HasPrefix(name, "gradpath_") && !strings.HasPrefix(name, "go_") && !strings.HasPrefix(name, "process_") && !strings.HasPrefix(name, "promhttp_") {
			t.Errorf("metric %s is not gradpath's (nor Go's or the process's)", name)
		}
	}
}

// A server's standard error is its log: the migrations of a new data directory are JSON lines
// like every other, not text among them.
func TestServeLogsMigrations(t *testing.T) {
	t.Parallel()
	s := start(t, nil)
	s.stop()
	err := <-s.done
	s.done <- err // for the cleanup
	lines := strings.Split(strings.TrimSpace(s.stderr.String()), "\n")
	migrations := 0
	for _, line := range lines {
		var entry struct{ Msg, Migration string }
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Errorf("a line of the log is not JSON: %q", line)
			continue
		}
		if entry.Msg == "migration applied" && entry.Migration != "" {
			migrations++
		}
	}
	if migrations < 18 {
		t.Errorf("%d migrations logged, want every one of a new database's", migrations)
	}
}

// The alert rules and the dashboard in deploy/ ask for metrics gradpath has, and promtool
// finds /metrics, the rules and their unit tests in order.
func TestAlertsAndDashboard(t *testing.T) {
	t.Parallel()
	s := start(t, nil)
	res, err := http.Get(s.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, f := range []string{"../../deploy/prometheus/alerts.yml", "../../deploy/grafana/gradpath.json"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f, ".json") && !json.Valid(b) {
			t.Errorf("%s is not JSON", f)
		}
		for _, name := range regexp.MustCompile(`gradpath_[a-z_]+`).FindAllString(string(b), -1) {
			name = strings.TrimSuffix(name, "_bucket")
			if !strings.Contains(string(text), "# TYPE "+name+" ") {
				t.Errorf("%s asks for %s, which /metrics does not have", f, name)
			}
		}
	}
	promtool := os.Getenv("GRADPATH_TEST_PROMTOOL")
	if promtool == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("GRADPATH_TEST_PROMTOOL is not set: CI must check the metrics and the alert rules")
		}
		t.Skip("set GRADPATH_TEST_PROMTOOL (go install github.com/prometheus/prometheus/cmd/promtool@v0.316.0) to check the rules")
	}
	check := exec.Command(promtool, "check", "metrics")
	check.Stdin = bytes.NewReader(text)
	if out, err := check.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
	for _, args := range [][]string{{"check", "rules", "alerts.yml"}, {"test", "rules", "alerts_test.yml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = "../../deploy/prometheus"
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
