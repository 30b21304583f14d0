package pgtest

import (
	"fmt"
	"maps"
	"time"
)

// Config says how StartServer sets up a server. The zero value is ready to
// use: every field has a default, and StartServer never changes the
// caller's value.
type Config struct {
	// BinDir is the directory that holds initdb and postgres. The default
	// is found as the package doc describes.
	BinDir string

	// User is the system user that runs initdb and postgres when this
	// process is root; it is created with useradd --system when missing.
	// It is not used when this process is not root: the server then runs
	// as the current user. The default is "postgres".
	User string

	// Superuser is the database superuser that initdb creates. Clients
	// connect as it, without a password. The default is "postgres".
	Superuser string

	// BaseDir is where the temporary directory is made. When this process
	// is root, User must be able to reach it. The default is os.TempDir().
	BaseDir string

	// TLS turns on ssl with a self-signed certificate for 127.0.0.1 and
	// localhost, made at start. DSN and Env then ask for sslmode=require,
	// and RootCertFile names the certificate. The default is off.
	TLS bool

	// MaxConnections is max_connections. The default is 200.
	MaxConnections int

	// SharedBuffers is shared_buffers, with its unit. The default is
	// "32MB".
	SharedBuffers string

	// Settings are more postgresql.conf settings, written after this
	// package's own, so they override them; but they may not set
	// listen_addresses, port or unix_socket_directories, on which the
	// DSNs depend. A value is written as given: quote a string that is not
	// a single word ("'/some/path'").
	Settings map[string]string

	// StartTimeout bounds initdb, and each start's wait for the server to
	// accept connections, on top of the context's deadline. The default is
	// 60 seconds.
	StartTimeout time.Duration

	// StopTimeout is how long Stop and Close wait for a fast shutdown
	// before they kill the server, and how long Kill waits for the killed
	// processes to be gone. The default is 30 seconds.
	StopTimeout time.Duration

	// Logf, when set, is told where the server is and how long each start
	// took. Start sets it to tb.Logf.
	Logf func(format string, args ...any)
}

// The defaults of Config.
const (
	DefaultUser           = "postgres"
	DefaultSuperuser      = "postgres"
	DefaultMaxConnections = 200
	DefaultSharedBuffers  = "32MB"
	DefaultStartTimeout   = 60 * time.Second
	DefaultStopTimeout    = 30 * time.Second
)

// withDefaults returns a copy of c with the defaults filled in.
func (c Config) withDefaults() Config {
	if c.User == "" {
		c.User = DefaultUser
	}
	if c.Superuser == "" {
		c.Superuser = DefaultSuperuser
	}
	if c.MaxConnections == 0 {
		c.MaxConnections = DefaultMaxConnections
	}
	if c.SharedBuffers == "" {
		c.SharedBuffers = DefaultSharedBuffers
	}
	if c.StartTimeout == 0 {
		c.StartTimeout = DefaultStartTimeout
	}
	if c.StopTimeout == 0 {
		c.StopTimeout = DefaultStopTimeout
	}
	c.Settings = maps.Clone(c.Settings)
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
	return c
}

// ownSettings are the settings that tell where the server listens: the
// Server's DSNs depend on them, so Config.Settings may not change them.
var ownSettings = []string{"listen_addresses", "port", "unix_socket_directories"}

// validate fails for a Config that StartServer cannot honour.
func (c Config) validate() error {
	for _, name := range ownSettings {
		if _, ok := c.Settings[name]; ok {
			return fmt.Errorf("pgtest: Config.Settings may not set %s: the server's DSNs depend on it", name)
		}
	}
	if c.MaxConnections < 0 {
		return fmt.Errorf("pgtest: Config.MaxConnections is %d", c.MaxConnections)
	}
	return nil
}

// An Option changes the Config that Start uses.
type Option func(*Config)

// WithConfig starts from c instead of the zero Config. Options after it
// still apply.
func WithConfig(c Config) Option {
	return func(dst *Config) {
		*dst = c
		dst.Settings = maps.Clone(c.Settings)
	}
}

// WithTLS turns on TLS (Config.TLS).
func WithTLS() Option {
	return func(c *Config) { c.TLS = true }
}

// WithSetting adds the postgresql.conf setting name = value
// (Config.Settings).
func WithSetting(name, value string) Option {
	return func(c *Config) {
		if c.Settings == nil {
			c.Settings = make(map[string]string)
		}
		c.Settings[name] = value
	}
}
