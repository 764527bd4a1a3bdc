package config

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func load(t *testing.T, vars map[string]string, args ...string) (Config, error) {
	t.Helper()
	l := NewLoader(env(vars))
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	l.Flags(fs, "addr", "data", "demo", "database_url")
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	return l.Load()
}

func TestPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "gradpath.toml")
	os.WriteFile(file, []byte("addr = \"0.0.0.0:9000\"\ndata = \"/srv/file\"\nlog_level = \"debug\"\nshutdown_timeout = \"20s\"\n"), 0o600)

	c, err := load(t, map[string]string{"GRADPATH_CONFIG": file, "GRADPATH_DATA": "/srv/env"}, "--demo")
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "0.0.0.0:9000" || c.DataDir != "/srv/env" || !c.Demo || c.LogLevel != "debug" || c.ShutdownTimeout != 20*time.Second {
		t.Errorf("file then env then flags: %+v", c)
	}
	c, err = load(t, map[string]string{"GRADPATH_CONFIG": file, "GRADPATH_DATA": "/srv/env"}, "--data", "/srv/flag", "--addr", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/srv/flag" || c.Addr != "127.0.0.1:0" || c.Demo {
		t.Errorf("flags win: %+v", c)
	}
	c, err = load(t, nil)
	if err != nil || !reflect.DeepEqual(c, Default()) {
		t.Errorf("defaults = %+v, %v", c, err)
	}
}

func TestBookingAndEscalationSettings(t *testing.T) {
	c, err := load(t, map[string]string{"GRADPATH_BOOKING_HORIZON": "consultation=30, mentorship=90",
		"GRADPATH_LEAD_ESCALATE_AFTER": "4h", "GRADPATH_LEAD_ESCALATE_TO": "ops@agency.example"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.BookingHorizons, map[string]int{"consultation": 30, "mentorship": 90}) ||
		c.LeadEscalateAfter != 4*time.Hour || c.LeadEscalateTo != "ops@agency.example" {
		t.Errorf("got %v %v %q", c.BookingHorizons, c.LeadEscalateAfter, c.LeadEscalateTo)
	}
}

func TestBadSettingsAreNamed(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(bad, []byte("adress = \"x\"\n"), 0o600)
	tests := []struct {
		vars map[string]string
		args []string
		want string
	}{
		{map[string]string{"GRADPATH_ADDR": "localhost"}, nil, "addr"},
		{nil, []string{"--addr", "127.0.0.1:99999"}, "port"},
		{map[string]string{"GRADPATH_DATABASE_URL": "mysql://x"}, nil, "GRADPATH_DATABASE_URL"},
		{map[string]string{"GRADPATH_LOG_LEVEL": "verbose"}, nil, "log_level"},
		{map[string]string{"GRADPATH_SHUTDOWN_TIMEOUT": "10"}, nil, "GRADPATH_SHUTDOWN_TIMEOUT"},
		{map[string]string{"GRADPATH_DEMO": "yes please"}, nil, "GRADPATH_DEMO"},
		{map[string]string{"GRADPATH_CONFIG": bad}, nil, `unknown setting "adress"`},
		{map[string]string{"GRADPATH_CONFIG": "/nonexistent.toml"}, nil, "config file"},
		{nil, []string{"--data", ""}, "data"},
		{map[string]string{"GRADPATH_ADDR": "0.0.0.0:8080", "GRADPATH_COOKIE_SECURE": "false"}, nil, "cookie_secure"},
		{map[string]string{"GRADPATH_OIDC_ISSUER": "https://id.example"}, nil, "oidc_client_id"},
		{map[string]string{"GRADPATH_PUBLIC_URL": "gradpath.example.org"}, nil, "public_url"},
		{map[string]string{"GRADPATH_FINDER": "elastic"}, nil, "finder"},
		{map[string]string{"GRADPATH_MEMORY_LIMIT_MB": "10"}, nil, "memory_limit_mb"},
		{map[string]string{"GRADPATH_BOOKING_HORIZON": "webinar=30"}, nil, "GRADPATH_BOOKING_HORIZON"},
		{map[string]string{"GRADPATH_BOOKING_HORIZON": "mentorship=0"}, nil, "from 1 to 366"},
		{map[string]string{"GRADPATH_LEAD_ESCALATE_AFTER": "-1h"}, nil, "GRADPATH_LEAD_ESCALATE_AFTER"},
		{map[string]string{"GRADPATH_LEAD_ESCALATE_TO": "a@x.example, b@x.example"}, nil, "one email address"},
		{map[string]string{"GRADPATH_FILES_URL": "https://bucket.example/x"}, nil, "GRADPATH_FILES_URL"},
		{map[string]string{"GRADPATH_FILES_URL": "s3://"}, nil, "GRADPATH_FILES_URL"},
		{map[string]string{"GRADPATH_FILES_URL": "s3://docs", "GRADPATH_FILES_ENDPOINT": "127.0.0.1:8333"}, nil, "GRADPATH_FILES_ENDPOINT"},
		{map[string]string{"GRADPATH_FILES_URL": "s3://docs", "GRADPATH_FILES_ACCESS_KEY": "AKIA"}, nil, "files_secret_key"},
		{map[string]string{"GRADPATH_FILES_ENDPOINT": "http://127.0.0.1:8333"}, nil, "set it too"},
		{map[string]string{"GRADPATH_OIDC_ROLES": "staff=wizard"}, nil, "GRADPATH_OIDC_ROLES"},
		{map[string]string{"GRADPATH_OIDC_ROLES": "staff=counsellor"}, nil, "oidc_role_claim"},
		{map[string]string{"GRADPATH_OIDC_ALLOWED_DOMAINS": "agency"}, nil, "email domain"},
	}
	for _, tt := range tests {
		_, err := load(t, tt.vars, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("vars %v args %v: error %v, want it to name %q", tt.vars, tt.args, err, tt.want)
		}
	}
}

func TestDescribeRedactsSecrets(t *testing.T) {
	c := Default()
	c.DatabaseURL = "postgres://gradpath:s3cret@db:5432/gradpath"
	c.OIDCClientSecret = "s3cret-token-s3cret-token-s3cret"
	c.FilesSecretKey = "s3cret-key"
	for _, kv := range c.Describe() {
		if strings.Contains(kv[1], "s3cret") {
			t.Errorf("%s shows the password: %s", kv[0], kv[1])
		}
	}
	if c.Engine() != "postgres" {
		t.Errorf("engine = %s", c.Engine())
	}
}
