// Package config is gradpath's one typed configuration. Each setting is read, in order, from
// its default, the optional TOML file (--config or GRADPATH_CONFIG), the GRADPATH_*
// environment variable, and the command-line flag; the last one given wins. Start-up stops on
// the first bad setting with a message naming it and where it came from.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Config holds every setting.
type Config struct {
	// Addr is the HTTP listen address, host:port; port 0 picks a free port.
	Addr string
	// DataDir holds the SQLite database and uploaded files.
	DataDir string
	// DatabaseURL, when set (postgres://…), moves the database to PostgreSQL.
	DatabaseURL string
	// Demo loads the demo dataset into an empty database at start.
	Demo bool
	// LogFormat is json or text; LogLevel is debug, info, warn or error.
	LogFormat, LogLevel string
	// ShutdownTimeout bounds the wait for in-flight requests on SIGTERM.
	ShutdownTimeout time.Duration
	// Finder is where programme searches are answered: "memory" (an in-memory index of the
	// catalogue, rebuilt on change) or "sql" (queries on the database, for small machines
	// with very large catalogues).
	Finder string
	// PageCacheMB bounds the cache of finder answers, in MiB; 0 turns it off.
	PageCacheMB int
	// PublicURL is the address people and providers reach gradpath at, such as
	// https://gradpath.example.org; it defaults to http://ADDR.
	PublicURL string
	// CookieSecure sends the session cookie over HTTPS only; it may be off only when gradpath
	// listens on a loopback address (plain http on this machine).
	CookieSecure bool
	// SessionIdle and SessionMax end sessions after inactivity and after sign-in.
	SessionIdle, SessionMax time.Duration
	// OIDC* configure sign-in with an OpenID Connect provider; the redirect URI to register with
	// it is PublicURL + /api/v1/auth/oidc/callback.
	OIDCIssuer, OIDCClientID, OIDCClientSecret string
	// OIDCScopes are asked for besides openid, email and profile.
	OIDCScopes []string
	// OIDCRoleClaim names the claim holding a person's groups ("groups", "realm_access.roles");
	// OIDCRoles maps its values to gradpath roles (admin, counsellor, student), which then
	// follow the provider at every sign-in through it.
	OIDCRoleClaim string
	OIDCRoles     map[string]string
	// OIDCDomains, when set, are the only email domains that may sign in through the provider.
	OIDCDomains []string
	// EligibilityTables is a JSON file of academic score conversion tables; empty uses
	// gradpath's documented defaults (docs/eligibility.md).
	EligibilityTables string
	// DebugAddr, when set, serves Go's profiler (net/http/pprof) on that address; keep it on
	// loopback.
	DebugAddr string
	// MemoryLimitMB is the Go runtime's soft memory limit: 0 keeps it at 1.4 × the live heap
	// (at least 256 MiB), a positive number fixes it, -1 leaves the runtime's default. A
	// GOMEMLIMIT environment variable takes precedence.
	MemoryLimitMB int
	// GraphQLIntrospection lets GraphQL clients ask for the schema: "auto" (on with the demo
	// data, a development or evaluation server; off otherwise), "on" or "off".
	GraphQLIntrospection string
	// IndexInBackgroundAbove is the number of programmes above which serve starts answering
	// before the finder index is built (the finder reads the database meanwhile and /readyz
	// says 503); -1 always builds the index first.
	IndexInBackgroundAbove int
	// CatalogueRefresh is how often a replica checks the database for catalogue changes made
	// elsewhere (other replicas, command-line imports).
	CatalogueRefresh time.Duration
	// Region is the ISO country assumed for phone numbers written without a country code.
	Region string
	// LeadRouting is round_robin or least_open.
	LeadRouting string
	// LeadRateLimit is how many lead requests one address may send per minute; 0 is no limit.
	LeadRateLimit int
	// RedisURL, when set (redis://…), keeps every rate limit in Redis, shared by all replicas;
	// RedisPrefix starts every key gradpath writes there.
	RedisURL, RedisPrefix string
	// WebhookAllowPrivate lets webhook endpoints be on loopback and private addresses.
	WebhookAllowPrivate bool
	// NATSURL, when set (nats://…), publishes every domain event to the JetStream stream
	// NATSStream, on subjects NATSPrefix.<event type>.
	NATSURL, NATSStream, NATSPrefix string
	// FilesURL, when set (s3://bucket/prefix), keeps uploaded documents in that S3-compatible
	// bucket, shared by every replica, instead of the data directory; FilesEndpoint is the
	// server (empty: Amazon S3 in FilesRegion), FilesAccessKey and FilesSecretKey its
	// credentials (empty: the AWS variables, ~/.aws/credentials or the instance's role).
	FilesURL, FilesEndpoint, FilesRegion, FilesAccessKey, FilesSecretKey string
	// Calendar is a JSON file with the agency's business calendar (zone, week, holidays);
	// empty is Monday to Friday, 09:30–18:30, Asia/Kolkata.
	Calendar string
	// SMTP* configure the mail server notifications go through; without SMTPAddr, none are sent.
	SMTPAddr, SMTPFrom, SMTPUsername, SMTPPassword string
	// Workers is how many background jobs (notifications, SLA checks) run at once.
	Workers int
	// JobTimeout bounds one run of a background job; a job a stopped replica was running is
	// taken up by another after three times that.
	JobTimeout time.Duration
	// TrustedProxies are the reverse proxies (CIDR prefixes) whose X-Forwarded-For, Forwarded
	// and X-Forwarded-Proto headers are believed; empty believes nobody's.
	TrustedProxies []string
	// CORSOrigins are the other sites (https://www.agency.example) whose pages may call the
	// public endpoints from a browser, without credentials.
	CORSOrigins []string
	// TLSCertFile and TLSKeyFile, when both set, serve HTTPS (and HTTP/2) directly.
	TLSCertFile, TLSKeyFile string
	// MetricsFrom are the client networks /metrics answers (default loopback only); MetricsAddr,
	// when set, serves /metrics on its own address instead of the main one.
	MetricsFrom []string
	MetricsAddr string
	// OTLPEndpoint, when set, is the OpenTelemetry collector traces are sent to over OTLP/HTTP
	// (its base URL); TraceSampleRatio is the share of new traces kept.
	OTLPEndpoint     string
	TraceSampleRatio float64
	// BackupSchedule, when set, runs gradpath backup in the server: daily at a time ("02:30",
	// the agency's zone) or every interval ("6h"), into BackupDir (DataDir/backups when
	// empty), keeping the newest BackupKeep.
	BackupSchedule string
	BackupDir      string
	BackupKeep     int
	// DiskFreeMinMB is the free space below which /readyz reports the data directory full.
	DiskFreeMinMB int
	// FormMinAge is how long a person takes at least to fill in a public form: a form sent
	// back sooner is a script's, and is ignored.
	FormMinAge time.Duration
	// BookingHorizons is how many days ahead each session type may be booked, by type id; a
	// type not named keeps its default.
	BookingHorizons map[string]int
	// LeadEscalateAfter is how much working time past its due time an unanswered lead waits
	// before it is escalated by email (0: never); LeadEscalateTo is who gets that email
	// (empty: every admin).
	LeadEscalateAfter time.Duration
	LeadEscalateTo    string
}

// Default returns the settings used when nothing else is given.
func Default() Config {
	return Config{
		Addr:                   "127.0.0.1:8080",
		DataDir:                "./gradpath-data",
		LogFormat:              "json",
		LogLevel:               "info",
		ShutdownTimeout:        10 * time.Second,
		Finder:                 "memory",
		GraphQLIntrospection:   "auto",
		CookieSecure:           true,
		SessionIdle:            30 * time.Minute,
		SessionMax:             12 * time.Hour,
		PageCacheMB:            16,
		IndexInBackgroundAbove: 20_000,
		Region:                 "IN",
		LeadRouting:            "round_robin",
		LeadRateLimit:          20,
		RedisPrefix:            "gradpath:",
		NATSStream:             "GRADPATH",
		NATSPrefix:             "gradpath",
		SMTPFrom:               "gradpath@localhost",
		Workers:                4,
		JobTimeout:             time.Minute,
		CatalogueRefresh:       2 * time.Second,
		MetricsFrom:            []string{"127.0.0.0/8", "::1/128"},
		DiskFreeMinMB:          100,
		TraceSampleRatio:       1,
		BackupKeep:             7,
		FormMinAge:             3 * time.Second,
	}
}

func parseDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, errors.New("must be a duration such as 10s or 1m")
	}
	return d, nil
}

type setting struct {
	key    string // the file key; the flag is the same with '-' for '_'
	help   string
	isBool bool
	secret bool
	set    func(c *Config, v string) error
	get    func(c *Config) string
}

func (s setting) env() string  { return "GRADPATH_" + strings.ToUpper(s.key) }
func (s setting) flag() string { return strings.ReplaceAll(s.key, "_", "-") }

var settings = []setting{
	{key: "addr", help: "HTTP listen address, host:port (port 0 picks a free one)",
		set: func(c *Config, v string) error { c.Addr = v; return nil },
		get: func(c *Config) string { return c.Addr }},
	{key: "data", help: "data directory: the SQLite database and uploaded files",
		set: func(c *Config, v string) error { c.DataDir = v; return nil },
		get: func(c *Config) string { return c.DataDir }},
	{key: "database_url", help: "PostgreSQL URL (postgres://user:pass@host:5432/db); empty means SQLite in the data directory", secret: true,
		set: func(c *Config, v string) error { c.DatabaseURL = v; return nil },
		get: func(c *Config) string { return redactURL(c.DatabaseURL) }},
	{key: "demo", help: "load the demo dataset into an empty database", isBool: true,
		set: func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return errors.New("must be true or false")
			}
			c.Demo = b
			return nil
		},
		get: func(c *Config) string { return strconv.FormatBool(c.Demo) }},
	{key: "log_format", help: "log format: json or text",
		set: func(c *Config, v string) error { c.LogFormat = v; return nil },
		get: func(c *Config) string { return c.LogFormat }},
	{key: "log_level", help: "log level: debug, info, warn or error",
		set: func(c *Config, v string) error { c.LogLevel = v; return nil },
		get: func(c *Config) string { return c.LogLevel }},
	{key: "shutdown_timeout", help: "how long SIGTERM waits for in-flight requests (e.g. 10s)",
		set: func(c *Config, v string) error {
			d, err := parseDuration(v)
			c.ShutdownTimeout = d
			return err
		},
		get: func(c *Config) string { return c.ShutdownTimeout.String() }},
	{key: "public_url", help: "the address people reach gradpath at, e.g. https://gradpath.example.org (default http://ADDR)",
		set: func(c *Config, v string) error { c.PublicURL = strings.TrimSuffix(v, "/"); return nil },
		get: func(c *Config) string { return c.PublicURL }},
	{key: "cookie_secure", help: "send the session cookie over HTTPS only; false is allowed only on a loopback address", isBool: true,
		set: func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return errors.New("must be true or false")
			}
			c.CookieSecure = b
			return nil
		},
		get: func(c *Config) string { return strconv.FormatBool(c.CookieSecure) }},
	{key: "session_idle", help: "how long a session lasts without a request (e.g. 30m)",
		set: func(c *Config, v string) error {
			d, err := parseDuration(v)
			c.SessionIdle = d
			return err
		},
		get: func(c *Config) string { return c.SessionIdle.String() }},
	{key: "session_max", help: "how long a session lasts after sign-in, however active (e.g. 12h)",
		set: func(c *Config, v string) error {
			d, err := parseDuration(v)
			c.SessionMax = d
			return err
		},
		get: func(c *Config) string { return c.SessionMax.String() }},
	{key: "oidc_issuer", help: "OpenID Connect provider's issuer URL, to enable sign-in with it",
		set: func(c *Config, v string) error { c.OIDCIssuer = v; return nil },
		get: func(c *Config) string { return c.OIDCIssuer }},
	{key: "oidc_client_id", help: "gradpath's client id at the OpenID provider",
		set: func(c *Config, v string) error { c.OIDCClientID = v; return nil },
		get: func(c *Config) string { return c.OIDCClientID }},
	{key: "oidc_client_secret", help: "gradpath's client secret at the OpenID provider", secret: true,
		set: func(c *Config, v string) error { c.OIDCClientSecret = v; return nil },
		get: func(c *Config) string {
			if c.OIDCClientSecret == "" {
				return ""
			}
			return "(set)"
		}},
	{key: "oidc_scopes", help: "more scopes to ask the OpenID provider for, comma-separated (e.g. groups)",
		set: func(c *Config, v string) error { c.OIDCScopes = list(v); return nil },
		get: func(c *Config) string { return strings.Join(c.OIDCScopes, ",") }},
	{key: "oidc_role_claim", help: "claim of the ID token or userinfo holding a person's groups, e.g. groups or realm_access.roles",
		set: func(c *Config, v string) error { c.OIDCRoleClaim = strings.TrimSpace(v); return nil },
		get: func(c *Config) string { return c.OIDCRoleClaim }},
	{key: "oidc_roles", help: "groups of oidc_role_claim and the role each gives, e.g. gradpath-admins=admin,counsellors=counsellor",
		set: func(c *Config, v string) error {
			m, err := roleMap(v)
			c.OIDCRoles = m
			return err
		},
		get: func(c *Config) string {
			var parts []string
			for k, r := range c.OIDCRoles {
				parts = append(parts, k+"="+r)
			}
			sort.Strings(parts)
			return strings.Join(parts, ",")
		}},
	{key: "oidc_allowed_domains", help: "the only email domains that may sign in with the OpenID provider, comma-separated (e.g. agency.in); empty: any",
		set: func(c *Config, v string) error {
			c.OIDCDomains = nil
			for _, d := range list(v) {
				d = strings.ToLower(strings.TrimPrefix(d, "@"))
				if !strings.Contains(d, ".") || strings.ContainsAny(d, "@/ ") {
					return fmt.Errorf("%q is not an email domain such as agency.in", d)
				}
				c.OIDCDomains = append(c.OIDCDomains, d)
			}
			return nil
		},
		get: func(c *Config) string { return strings.Join(c.OIDCDomains, ",") }},
	{key: "region", help: "ISO country code assumed for phone numbers written without a country code",
		set: func(c *Config, v string) error { c.Region = strings.ToUpper(v); return nil },
		get: func(c *Config) string { return c.Region }},
	{key: "lead_routing", help: "how leads are assigned: round_robin or least_open",
		set: func(c *Config, v string) error {
			if v != "round_robin" && v != "least_open" {
				return errors.New("must be round_robin or least_open")
			}
			c.LeadRouting = v
			return nil
		},
		get: func(c *Config) string { return c.LeadRouting }},
	{key: "lead_rate_limit", help: "lead requests one address may send per minute (0: no limit)",
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return errors.New("must be a whole number, 0 or more")
			}
			c.LeadRateLimit = n
			return nil
		},
		get: func(c *Config) string { return strconv.Itoa(c.LeadRateLimit) }},
	{key: "redis_url", help: "Redis URL (redis://[:password@]host:6379/0) for limits shared by every replica; empty: limits per process", secret: true,
		set: func(c *Config, v string) error {
			if v != "" && !strings.HasPrefix(v, "redis://") && !strings.HasPrefix(v, "rediss://") {
				return errors.New("must start with redis:// or rediss://")
			}
			c.RedisURL = v
			return nil
		},
		get: func(c *Config) string { return redactURL(c.RedisURL) }},
	{key: "webhook_allow_private", help: "let webhook endpoints be on loopback and private addresses (tests, one-host set-ups)", isBool: true,
		set: func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return errors.New("must be true or false")
			}
			c.WebhookAllowPrivate = b
			return nil
		},
		get: func(c *Config) string { return strconv.FormatBool(c.WebhookAllowPrivate) }},
	{key: "nats_url", help: "NATS server (nats://host:4222) with JetStream: every domain event is published to a stream for other systems", secret: true,
		set: func(c *Config, v string) error {
			if v != "" && !strings.HasPrefix(v, "nats://") && !strings.HasPrefix(v, "tls://") {
				return errors.New("must start with nats:// or tls://")
			}
			c.NATSURL = v
			return nil
		},
		get: func(c *Config) string { return redactURL(c.NATSURL) }},
	{key: "nats_stream", help: "name of the JetStream stream gradpath publishes to",
		set: func(c *Config, v string) error { c.NATSStream = v; return nil },
		get: func(c *Config) string { return c.NATSStream }},
	{key: "nats_subject_prefix", help: "first part of the subjects of published events (<prefix>.lead.created)",
		set: func(c *Config, v string) error { c.NATSPrefix = v; return nil },
		get: func(c *Config) string { return c.NATSPrefix }},
	{key: "files_url", help: "S3-compatible bucket for uploaded documents, s3://bucket/prefix, shared by every replica; empty: the data directory",
		set: func(c *Config, v string) error {
			if v != "" && !strings.HasPrefix(v, "s3://") {
				return errors.New("must be like s3://bucket/prefix")
			}
			c.FilesURL = v
			return nil
		},
		get: func(c *Config) string { return c.FilesURL }},
	{key: "files_endpoint", help: "the S3 server of files_url, such as https://s3.ap-south-1.amazonaws.com or http://127.0.0.1:8333 (empty: Amazon S3 in files_region)",
		set: func(c *Config, v string) error { c.FilesEndpoint = strings.TrimRight(v, "/"); return nil },
		get: func(c *Config) string { return c.FilesEndpoint }},
	{key: "files_region", help: "the region of files_url's bucket (empty: the server's default)",
		set: func(c *Config, v string) error { c.FilesRegion = v; return nil },
		get: func(c *Config) string { return c.FilesRegion }},
	{key: "files_access_key", help: "access key id for files_url (empty: AWS_ACCESS_KEY_ID, ~/.aws/credentials or the instance's role)",
		set: func(c *Config, v string) error { c.FilesAccessKey = v; return nil },
		get: func(c *Config) string { return c.FilesAccessKey }},
	{key: "files_secret_key", help: "secret access key for files_url", secret: true,
		set: func(c *Config, v string) error { c.FilesSecretKey = v; return nil },
		get: func(c *Config) string {
			if c.FilesSecretKey == "" {
				return ""
			}
			return "(set)"
		}},
	{key: "redis_prefix", help: "prefix of every key gradpath writes to Redis (several deployments can share one Redis)",
		set: func(c *Config, v string) error { c.RedisPrefix = v; return nil },
		get: func(c *Config) string { return c.RedisPrefix }},
	{key: "calendar", help: "JSON file with the agency's business calendar (default Mon–Fri 09:30–18:30 Asia/Kolkata)",
		set: func(c *Config, v string) error { c.Calendar = v; return nil },
		get: func(c *Config) string { return c.Calendar }},
	{key: "smtp_addr", help: "mail server for notifications, host:port (empty: no email is sent)",
		set: func(c *Config, v string) error { c.SMTPAddr = v; return nil },
		get: func(c *Config) string { return c.SMTPAddr }},
	{key: "smtp_from", help: "sender address of notifications",
		set: func(c *Config, v string) error { c.SMTPFrom = v; return nil },
		get: func(c *Config) string { return c.SMTPFrom }},
	{key: "smtp_username", help: "user name at the mail server, if it needs one",
		set: func(c *Config, v string) error { c.SMTPUsername = v; return nil },
		get: func(c *Config) string { return c.SMTPUsername }},
	{key: "smtp_password", help: "password at the mail server", secret: true,
		set: func(c *Config, v string) error { c.SMTPPassword = v; return nil },
		get: func(c *Config) string {
			if c.SMTPPassword == "" {
				return ""
			}
			return "(set)"
		}},
	{key: "job_timeout", help: "how long one background job may run (e.g. 1m); a job a killed replica was running is taken up by another after three times that",
		set: func(c *Config, v string) error {
			d, err := parseDuration(v)
			if err == nil && (d < 5*time.Second || d > time.Hour) {
				err = errors.New("must be from 5s to 1h")
			}
			c.JobTimeout = d
			return err
		},
		get: func(c *Config) string { return c.JobTimeout.String() }},
	{key: "workers", help: "background jobs (notifications, SLA checks) run at once",
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 256 {
				return errors.New("must be a whole number from 1 to 256")
			}
			c.Workers = n
			return nil
		},
		get: func(c *Config) string { return strconv.Itoa(c.Workers) }},
	{key: "eligibility_tables", help: "JSON file of academic score conversion tables (default: the documented built-in ones)",
		set: func(c *Config, v string) error { c.EligibilityTables = v; return nil },
		get: func(c *Config) string { return c.EligibilityTables }},
	{key: "debug_addr", help: "serve Go's profiler (/debug/pprof/) on this address, e.g. 127.0.0.1:6060; empty turns it off",
		set: func(c *Config, v string) error { c.DebugAddr = v; return nil },
		get: func(c *Config) string { return c.DebugAddr }},
	{key: "finder", help: "where programme searches are answered: memory (an index rebuilt on change) or sql",
		set: func(c *Config, v string) error { c.Finder = v; return nil },
		get: func(c *Config) string { return c.Finder }},
	{key: "graphql_introspection", help: "let GraphQL clients read the schema: auto (on with the demo data), on or off",
		set: func(c *Config, v string) error { c.GraphQLIntrospection = v; return nil },
		get: func(c *Config) string { return c.GraphQLIntrospection }},
	{key: "page_cache_mb", help: "MiB of recent finder answers to keep (0 turns the cache off)",
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return errors.New("must be a whole number of MiB")
			}
			c.PageCacheMB = n
			return nil
		},
		get: func(c *Config) string { return strconv.Itoa(c.PageCacheMB) }},
	{key: "index_in_background_above", help: "programmes above which serving starts before the finder index is built (the finder reads the database meanwhile, /readyz says 503); -1: always build it first",
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < -1 {
				return errors.New("must be a whole number of programmes, or -1")
			}
			c.IndexInBackgroundAbove = n
			return nil
		},
		get: func(c *Config) string { return strconv.Itoa(c.IndexInBackgroundAbove) }},
	{key: "memory_limit_mb", help: "soft memory limit in MiB: 0 follows the live heap (1.4x, at least 256), -1 leaves Go's default",
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return errors.New("must be a whole number of MiB, 0 or -1")
			}
			c.MemoryLimitMB = n
			return nil
		},
		get: func(c *Config) string { return strconv.Itoa(c.MemoryLimitMB) }},
	{key: "trusted_proxies", help: "reverse proxies whose X-Forwarded-For/Forwarded/X-Forwarded-Proto are believed, comma-separated CIDRs (e.g. 127.0.0.1/32,10.0.0.0/8); empty: none",
		set: func(c *Config, v string) error {
			list, err := cidrList(v)
			c.TrustedProxies = list
			return err
		},
		get: func(c *Config) string { return strings.Join(c.TrustedProxies, ",") }},
	{key: "cors_origins", help: "other sites whose pages may call the public API from a browser, comma-separated (e.g. https://www.agency.example)",
		set: func(c *Config, v string) error {
			c.CORSOrigins = nil
			for _, o := range strings.Split(v, ",") {
				o = strings.TrimSuffix(strings.TrimSpace(o), "/")
				if o == "" {
					continue
				}
				u, err := url.Parse(o)
				if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" || u.RawQuery != "" {
					return fmt.Errorf("%q is not an origin such as https://www.agency.example", o)
				}
				c.CORSOrigins = append(c.CORSOrigins, o)
			}
			return nil
		},
		get: func(c *Config) string { return strings.Join(c.CORSOrigins, ",") }},
	{key: "tls_cert_file", help: "PEM certificate chain to serve HTTPS with (with tls_key_file)",
		set: func(c *Config, v string) error { c.TLSCertFile = v; return nil },
		get: func(c *Config) string { return c.TLSCertFile }},
	{key: "tls_key_file", help: "PEM private key of tls_cert_file",
		set: func(c *Config, v string) error { c.TLSKeyFile = v; return nil },
		get: func(c *Config) string { return c.TLSKeyFile }},
	{key: "metrics_from", help: "client networks /metrics answers, comma-separated CIDRs (default loopback: 127.0.0.0/8,::1/128)",
		set: func(c *Config, v string) error {
			list, err := cidrList(v)
			c.MetricsFrom = list
			return err
		},
		get: func(c *Config) string { return strings.Join(c.MetricsFrom, ",") }},
	{key: "metrics_addr", help: "serve /metrics on this address (host:port) instead of the main one",
		set: func(c *Config, v string) error { c.MetricsAddr = v; return nil },
		get: func(c *Config) string { return c.MetricsAddr }},
	{key: "otlp_endpoint", help: "send traces over OTLP/HTTP to this OpenTelemetry collector (base URL, such as http://127.0.0.1:4318); empty: no traces",
		set: func(c *Config, v string) error { c.OTLPEndpoint = v; return nil },
		get: func(c *Config) string { return c.OTLPEndpoint }},
	{key: "trace_sample_ratio", help: "share of new traces kept, from 0 to 1 (a request arriving with a sampled traceparent is always kept)",
		set: func(c *Config, v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1 {
				return fmt.Errorf("%q is not a number from 0 to 1", v)
			}
			c.TraceSampleRatio = f
			return nil
		},
		get: func(c *Config) string { return strconv.FormatFloat(c.TraceSampleRatio, 'f', -1, 64) }},
	{key: "backup_schedule", help: "back up while serving (SQLite): daily at a time in the agency's zone (02:30) or every interval (6h); empty: no scheduled backups",
		set: func(c *Config, v string) error {
			if v != "" {
				if _, err := time.Parse("15:04", v); err != nil {
					if d, err := time.ParseDuration(v); err != nil || d < time.Second {
						return fmt.Errorf("%q is neither a time of day (02:30) nor an interval (6h)", v)
					}
				}
			}
			c.BackupSchedule = v
			return nil
		},
		get: func(c *Config) string { return c.BackupSchedule }},
	{key: "backup_dir", help: "where scheduled backups go: a directory (default: backups in the data directory; better on another disk) or s3://bucket/prefix",
		set: func(c *Config, v string) error { c.BackupDir = v; return nil },
		get: func(c *Config) string { return c.BackupDir }},
	{key: "backup_keep", help: "how many scheduled backups to keep, the newest",
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return errors.New("must be a whole number, 1 or more")
			}
			c.BackupKeep = n
			return nil
		},
		get: func(c *Config) string { return strconv.Itoa(c.BackupKeep) }},
	{key: "disk_free_min_mb", help: "free MiB in the data directory below which /readyz says the disk is full",
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return errors.New("must be a whole number of MiB, 0 or more")
			}
			c.DiskFreeMinMB = n
			return nil
		},
		get: func(c *Config) string { return strconv.Itoa(c.DiskFreeMinMB) }},
	{key: "form_min_age", help: "how long a person takes at least to fill in a public form; one sent back sooner is ignored as a script's (e.g. 3s)",
		set: func(c *Config, v string) error {
			d, err := parseDuration(v)
			if err == nil && d < 0 {
				err = errors.New("must be 0 or more")
			}
			c.FormMinAge = d
			return err
		},
		get: func(c *Config) string { return c.FormMinAge.String() }},
	{key: "booking_horizon", help: "days ahead each session type may be booked, e.g. consultation=60,mentorship=90 (default 60 each)",
		set: func(c *Config, v string) error {
			m, err := horizons(v)
			c.BookingHorizons = m
			return err
		},
		get: func(c *Config) string {
			var parts []string
			for k, d := range c.BookingHorizons {
				parts = append(parts, k+"="+strconv.Itoa(d))
			}
			sort.Strings(parts)
			return strings.Join(parts, ",")
		}},
	{key: "lead_escalate_after", help: "working time past due after which an unanswered lead is escalated by email, e.g. 4h (0: never)",
		set: func(c *Config, v string) error {
			d, err := parseDuration(v)
			if err == nil && d < 0 {
				err = errors.New("must be 0 or more")
			}
			c.LeadEscalateAfter = d
			return err
		},
		get: func(c *Config) string { return c.LeadEscalateAfter.String() }},
	{key: "lead_escalate_to", help: "email address escalations go to (empty: every admin)",
		set: func(c *Config, v string) error {
			v = strings.TrimSpace(v)
			if v != "" && (!strings.Contains(v, "@") || strings.ContainsAny(v, " ,;<>\r\n")) {
				return fmt.Errorf("%q is not one email address", v)
			}
			c.LeadEscalateTo = v
			return nil
		},
		get: func(c *Config) string { return c.LeadEscalateTo }},
	{key: "catalogue_refresh", help: "how often to look for catalogue changes made by other replicas or imports (e.g. 2s)",
		set: func(c *Config, v string) error {
			d, err := parseDuration(v)
			c.CatalogueRefresh = d
			return err
		},
		get: func(c *Config) string { return c.CatalogueRefresh.String() }},
}

// horizons reads type=days pairs, comma-separated.
// list reads comma-separated values, trimmed, without empty ones.
func list(v string) []string {
	var out []string
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// roleMap reads group=role pairs.
func roleMap(v string) (map[string]string, error) {
	m := map[string]string{}
	for _, part := range list(v) {
		g, r, ok := strings.Cut(part, "=")
		g, r = strings.TrimSpace(g), strings.TrimSpace(r)
		if !ok || g == "" || (r != "admin" && r != "counsellor" && r != "student") {
			return nil, fmt.Errorf("%q is not group=role with role admin, counsellor or student, e.g. gradpath-admins=admin", part)
		}
		m[g] = r
	}
	return m, nil
}

func horizons(v string) (map[string]int, error) {
	m := map[string]int{}
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, d, ok := strings.Cut(part, "=")
		k = strings.TrimSpace(k)
		if !ok || (k != "consultation" && k != "mentorship") {
			return nil, fmt.Errorf("%q is not type=days with type consultation or mentorship, e.g. mentorship=90", part)
		}
		n, err := strconv.Atoi(strings.TrimSpace(d))
		if err != nil || n < 1 || n > 366 {
			return nil, fmt.Errorf("%q: the days must be a whole number from 1 to 366", part)
		}
		m[k] = n
	}
	return m, nil
}

// cidrList reads comma-separated CIDR prefixes (a bare address is its own /32 or /128).
func cidrList(v string) ([]string, error) {
	var out []string
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			if _, err := netip.ParseAddr(s); err != nil {
				return nil, fmt.Errorf("%q is not an address or a CIDR prefix such as 10.0.0.0/8", s)
			}
		} else if _, err := netip.ParsePrefix(s); err != nil {
			return nil, fmt.Errorf("%q is not a CIDR prefix such as 10.0.0.0/8", s)
		}
		out = append(out, s)
	}
	return out, nil
}

func lookup(key string) (setting, bool) {
	for _, s := range settings {
		if s.key == key {
			return s, true
		}
	}
	return setting{}, false
}

// Loader builds a Config from every source. Create one with NewLoader, register the flags a
// command accepts with Flags, parse the flag set, then call Load.
type Loader struct {
	getenv  func(string) string
	file    string
	flagged []struct{ key, value string }
}

// NewLoader returns a Loader reading the environment through getenv.
func NewLoader(getenv func(string) string) *Loader { return &Loader{getenv: getenv} }

// Flags registers --config and a flag for each named setting on fs.
func (l *Loader) Flags(fs *flag.FlagSet, keys ...string) {
	defaults := Default()
	fs.StringVar(&l.file, "config", "", "TOML configuration file (default: $GRADPATH_CONFIG)")
	for _, k := range keys {
		s, ok := lookup(k)
		if !ok {
			panic("config: no setting " + k)
		}
		record := func(v string) error {
			l.flagged = append(l.flagged, struct{ key, value string }{s.key, v})
			return nil
		}
		help := s.help
		if d := s.get(&defaults); d != "" && !s.secret && !strings.Contains(help, "default") {
			help += " (default " + d + ")"
		}
		if s.isBool {
			fs.BoolFunc(s.flag(), help, record)
		} else {
			fs.Func(s.flag(), help, record)
		}
	}
}

// Set gives a setting a value as a flag would: for a command whose own arguments imply it.
func (l *Loader) Set(key, value string) {
	l.flagged = append(l.flagged, struct{ key, value string }{key, value})
}

// Load returns the Config from defaults, file, environment and flags, validated.
func (l *Loader) Load() (Config, error) {
	c := Default()
	file := l.file
	if file == "" {
		file = l.getenv("GRADPATH_CONFIG")
	}
	if file != "" {
		if err := loadFile(&c, file); err != nil {
			return c, err
		}
	}
	for _, s := range settings {
		if v := l.getenv(s.env()); v != "" {
			if err := s.set(&c, v); err != nil {
				return c, fmt.Errorf("setting %s: %w", s.env(), err)
			}
		}
	}
	for _, f := range l.flagged {
		s, _ := lookup(f.key)
		if err := s.set(&c, f.value); err != nil {
			return c, fmt.Errorf("flag --%s: %w", s.flag(), err)
		}
	}
	return c, c.Validate()
}

func loadFile(c *Config, path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	var m map[string]any
	if _, err := toml.Decode(string(raw), &m); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s, ok := lookup(k)
		if !ok {
			return fmt.Errorf("config file %s: unknown setting %q (known: %s)", path, k, strings.Join(Keys(), ", "))
		}
		var v string
		switch x := m[k].(type) {
		case string:
			v = x
		case bool:
			v = strconv.FormatBool(x)
		case int64:
			v = strconv.FormatInt(x, 10)
		default:
			return fmt.Errorf("config file %s: setting %s: must be a string, a number or a boolean", path, k)
		}
		if err := s.set(c, v); err != nil {
			return fmt.Errorf("config file %s: setting %s: %w", path, k, err)
		}
	}
	return nil
}

// Keys lists the names of every setting as the configuration file spells them.
func Keys() []string {
	out := make([]string, len(settings))
	for i, s := range settings {
		out[i] = s.key
	}
	return out
}

// Validate checks every setting; the error names the first bad one.
func (c Config) Validate() error {
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return fmt.Errorf("setting addr (GRADPATH_ADDR, --addr): %q is not host:port, e.g. 127.0.0.1:8080", c.Addr)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("setting addr (GRADPATH_ADDR, --addr): port %q must be a number from 0 to 65535", port)
	}
	if strings.TrimSpace(c.DataDir) == "" {
		return errors.New("setting data (GRADPATH_DATA, --data): the data directory must not be empty")
	}
	if c.DatabaseURL != "" {
		u, err := url.Parse(c.DatabaseURL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
			return errors.New("setting database_url (GRADPATH_DATABASE_URL, --database-url): must be a PostgreSQL URL such as postgres://user:password@host:5432/gradpath, or empty for SQLite")
		}
	}
	switch c.LogFormat {
	case "json", "text":
	default:
		return fmt.Errorf("setting log_format (GRADPATH_LOG_FORMAT): %q is not json or text", c.LogFormat)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("setting log_level (GRADPATH_LOG_LEVEL): %q is not debug, info, warn or error", c.LogLevel)
	}
	if c.ShutdownTimeout <= 0 {
		return errors.New("setting shutdown_timeout (GRADPATH_SHUTDOWN_TIMEOUT): must be more than zero")
	}
	if !c.CookieSecure {
		if ip := net.ParseIP(host); !(host == "localhost" || ip != nil && ip.IsLoopback()) {
			return fmt.Errorf("setting cookie_secure (GRADPATH_COOKIE_SECURE): false is allowed only when addr is a loopback address; %s is not: serve over HTTPS (a proxy in front is fine) and keep it true", host)
		}
	}
	if c.SessionIdle < time.Minute || c.SessionMax < c.SessionIdle || c.SessionMax > 30*24*time.Hour {
		return errors.New("setting session_idle/session_max: idle at least 1m, max at least idle and at most 720h")
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" {
			return errors.New("setting public_url (GRADPATH_PUBLIC_URL): must be like https://gradpath.example.org, without a path")
		}
	}
	if c.OIDCIssuer != "" {
		if c.OIDCClientID == "" || c.OIDCClientSecret == "" {
			return errors.New("setting oidc_issuer: also set oidc_client_id and oidc_client_secret")
		}
		if u, err := url.Parse(c.OIDCIssuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return errors.New("setting oidc_issuer (GRADPATH_OIDC_ISSUER): must be the provider's issuer URL, such as https://accounts.example.org")
		}
	}
	if (c.OIDCRoleClaim == "") != (len(c.OIDCRoles) == 0) {
		return errors.New("setting oidc_role_claim/oidc_roles: set both (the claim, and which of its groups give which role) or neither")
	}
	if c.FilesURL != "" {
		if u, err := url.Parse(c.FilesURL); err != nil || u.Scheme != "s3" || u.Host == "" || u.RawQuery != "" || u.User != nil {
			return errors.New("setting files_url (GRADPATH_FILES_URL): must be like s3://bucket or s3://bucket/prefix")
		}
		if c.FilesEndpoint != "" {
			if u, err := url.Parse(c.FilesEndpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" {
				return errors.New("setting files_endpoint (GRADPATH_FILES_ENDPOINT): must be like https://s3.example.org or http://127.0.0.1:8333, without a path")
			}
		}
		if (c.FilesAccessKey == "") != (c.FilesSecretKey == "") {
			return errors.New("setting files_access_key/files_secret_key: set both or neither")
		}
	} else if (c.FilesEndpoint != "" || c.FilesAccessKey != "") && !strings.HasPrefix(c.BackupDir, "s3://") {
		return errors.New("setting files_endpoint/files_access_key: they are for files_url (or an s3:// backup_dir); set it too (s3://bucket/prefix)")
	}
	if c.DebugAddr != "" {
		if _, _, err := net.SplitHostPort(c.DebugAddr); err != nil {
			return fmt.Errorf("setting debug_addr (GRADPATH_DEBUG_ADDR): %q is not host:port", c.DebugAddr)
		}
	}
	if v := c.GraphQLIntrospection; v != "auto" && v != "on" && v != "off" {
		return fmt.Errorf("setting graphql_introspection (GRADPATH_GRAPHQL_INTROSPECTION): %q is not auto, on or off", v)
	}
	if c.Finder != "memory" && c.Finder != "sql" {
		return fmt.Errorf("setting finder (GRADPATH_FINDER): %q is not memory or sql", c.Finder)
	}
	if c.PageCacheMB < 0 || c.PageCacheMB > 64<<10 {
		return errors.New("setting page_cache_mb (GRADPATH_PAGE_CACHE_MB): must be between 0 and 65536")
	}
	if c.MemoryLimitMB < -1 || (c.MemoryLimitMB > 0 && c.MemoryLimitMB < 64) {
		return errors.New("setting memory_limit_mb (GRADPATH_MEMORY_LIMIT_MB): must be -1, 0, or at least 64")
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return errors.New("setting tls_cert_file/tls_key_file: set both (the certificate and its key) or neither")
	}
	if c.TLSCertFile != "" {
		for _, f := range []string{c.TLSCertFile, c.TLSKeyFile} {
			if _, err := os.Stat(f); err != nil {
				return fmt.Errorf("setting tls_cert_file/tls_key_file: %s cannot be read: %v", f, err)
			}
		}
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			return fmt.Errorf("setting metrics_addr (GRADPATH_METRICS_ADDR): %q is not host:port", c.MetricsAddr)
		}
	}
	if c.CatalogueRefresh < 100*time.Millisecond {
		return errors.New("setting catalogue_refresh (GRADPATH_CATALOGUE_REFRESH): must be at least 100ms")
	}
	return nil
}

// Describe lists every setting with its value as gradpath will use it; secrets are redacted.
func (c Config) Describe() [][2]string {
	out := make([][2]string, len(settings))
	for i, s := range settings {
		out[i] = [2]string{s.key, s.get(&c)}
	}
	return out
}

// Engine names the database the configuration selects.
func (c Config) Engine() string {
	if c.DatabaseURL != "" {
		return "postgres"
	}
	return "sqlite"
}

func redactURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil {
		return "(unparseable)"
	}
	return u.Redacted()
}

// BaseURL is PublicURL, or http(s)://ADDR when it is not set.
func (c Config) BaseURL(listening string) string {
	if c.PublicURL != "" {
		return c.PublicURL
	}
	if c.TLSCertFile != "" {
		return "https://" + listening
	}
	return "http://" + listening
}

// Introspection reports whether GraphQL answers questions about its schema.
func (c Config) Introspection() bool {
	return c.GraphQLIntrospection == "on" || c.GraphQLIntrospection == "auto" && c.Demo
}

// HTTPS reports whether people reach the server over https: a public https address, or TLS
// served here.
func (c Config) HTTPS() bool {
	return c.TLSCertFile != "" || strings.HasPrefix(c.PublicURL, "https://")
}
