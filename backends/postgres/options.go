package postgres

import (
	"fmt"
	"regexp"
	"time"
)

// Options configures the PostgreSQL backend; pass it with
// eventstore.WithBackendConfig. The zero value is valid: every field has a
// default.
type Options struct {
	// DSN names the server, as libpq and pgx read it: a URL
	// ("postgres://app@db.example.com/orders?sslmode=verify-full") or
	// key=value pairs ("host=/run/postgresql dbname=orders"). TLS is set
	// here (sslmode, sslrootcert, ...). The default, "", takes everything
	// from the standard environment variables PGHOST, PGPORT, PGUSER,
	// PGPASSWORD, PGDATABASE, PGSSLMODE and the others libpq reads; a
	// DSN's unset parts are taken from them too.
	DSN string

	// Schema is the PostgreSQL schema that holds the store's tables: the
	// store's identity, shared by every process that opens it. It is
	// created on first use. 1 to 63 characters: lower-case letters,
	// digits and underscores, not starting with a digit. The default is
	// DefaultSchema.
	Schema string

	// MaxConns bounds the connections this process opens: one for the
	// committer, one for following other processes' appends, and the rest
	// for reads. The default is DefaultMaxConns.
	MaxConns int32

	// CommitTimeout bounds one group commit's round trips. An append
	// whose commit could not finish in time fails, with ErrUnknownOutcome
	// when the commit may have reached the server. The default is
	// DefaultCommitTimeout.
	CommitTimeout time.Duration

	// PollInterval is how often this process looks for other processes'
	// appends when no notification (LISTEN/NOTIFY) woke it: the longest
	// a lost notification delays them. The default is
	// DefaultPollInterval.
	PollInterval time.Duration
}

// Defaults of Options.
const (
	DefaultSchema        = "eventstore"
	DefaultMaxConns      = 8
	DefaultCommitTimeout = 30 * time.Second
	DefaultPollInterval  = time.Second
)

var schemaRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// withDefaults returns o with its defaults filled in, checked. It never
// changes the caller's value.
func (o Options) withDefaults() (Options, error) {
	if o.Schema == "" {
		o.Schema = DefaultSchema
	}
	if !schemaRE.MatchString(o.Schema) {
		return o, fmt.Errorf("postgres: schema %q: use 1 to 63 lower-case letters, digits and underscores, not starting with a digit", o.Schema)
	}
	if o.MaxConns == 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.MaxConns < 3 {
		return o, fmt.Errorf("postgres: MaxConns %d: at least 3 (a committer, a follower and a reader)", o.MaxConns)
	}
	if o.CommitTimeout == 0 {
		o.CommitTimeout = DefaultCommitTimeout
	}
	if o.PollInterval == 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.CommitTimeout < 0 || o.PollInterval < 0 {
		return o, fmt.Errorf("postgres: negative CommitTimeout or PollInterval")
	}
	return o, nil
}

// optionsFrom accepts what eventstore.WithBackendConfig passed.
func optionsFrom(cfg any) (Options, error) {
	switch c := cfg.(type) {
	case nil:
		return Options{}.withDefaults()
	case Options:
		return c.withDefaults()
	case *Options:
		if c == nil {
			return Options{}.withDefaults()
		}
		return c.withDefaults()
	}
	return Options{}, fmt.Errorf("postgres: WithBackendConfig(%T): give a postgres.Options", cfg)
}
