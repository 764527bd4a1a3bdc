package httpapi_test

import (
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gradpath/gradpath/internal/httpapi"
	"github.com/gradpath/gradpath/internal/storetest"
)

// linter finds a linter's command from its variable: outside CI a missing one skips the test,
// in CI it fails it (.ci/run installs both with npm from .ci/npm).
func linter(t *testing.T, env string) string {
	t.Helper()
	bin := os.Getenv(env)
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: CI must lint the OpenAPI document", env)
		}
		t.Skipf("set %s to lint the OpenAPI document (npm install --prefix .ci/npm)", env)
	}
	return bin
}

// TestOpenAPILints runs Redocly's recommended rules and Spectral's OpenAPI rules on the
// document a deployment serves: no error and no warning, but for the two exceptions the
// ignore file gives with their reasons.
func TestOpenAPILints(t *testing.T) {
	redocly, spectral := linter(t, "GRADPATH_TEST_REDOCLY"), linter(t, "GRADPATH_TEST_SPECTRAL")
	s := newSecureServer(t, storetest.OpenSQLite(t), func(d *httpapi.Deps) { d.ServerURL = "https://apply.agency.example" })
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
	dir := t.TempDir()
	files := map[string][]byte{"openapi.json": rec.Body.Bytes()}
	for _, f := range []string{"redocly.yaml", ".redocly.lint-ignore.yaml", ".spectral.yaml"} {
		b, err := os.ReadFile(filepath.Join("testdata", "lint", f))
		if err != nil {
			t.Fatal(err)
		}
		files[f] = b
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true", "NO_COLOR=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	if out := run(redocly, "lint", "--config", "redocly.yaml", "--format", "stylish", "openapi.json"); regexp.MustCompile(`\d+:\d+\s+warning\s`).MatchString(out) {
		t.Errorf("redocly lint warns:\n%s", out)
	}
	run(spectral, "lint", "--ruleset", ".spectral.yaml", "--fail-severity", "warn", "openapi.json")
}
