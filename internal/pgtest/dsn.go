package pgtest

import (
	"net/url"
	"strconv"
)

// sslmode is what clients ask for: require with TLS, else disable.
func (s *Server) sslmode() string {
	if s.cfg.TLS {
		return "require"
	}
	return "disable"
}

// DSN returns a connection URL for the database db over TCP on
// 127.0.0.1, as the superuser, with sslmode=require when the server has
// TLS and sslmode=disable when not. Parameters may be appended with
// "&name=value".
func (s *Server) DSN(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User(s.cfg.Superuser),
		Host:     "127.0.0.1:" + strconv.Itoa(s.port),
		Path:     "/" + db,
		RawQuery: url.Values{"sslmode": {s.sslmode()}}.Encode(),
	}
	return u.String()
}

// SocketDSN returns a connection URL for the database db over the
// server's Unix socket, as the superuser. PostgreSQL has no TLS on Unix
// sockets, so it says sslmode=disable.
func (s *Server) SocketDSN(db string) string {
	u := url.URL{
		Scheme: "postgres",
		User:   url.User(s.cfg.Superuser),
		Path:   "/" + db,
		RawQuery: url.Values{
			"host":    {s.layout.sock},
			"port":    {strconv.Itoa(s.port)},
			"sslmode": {"disable"},
		}.Encode(),
	}
	return u.String()
}

// Env returns the libpq environment variables (PGHOST, PGPORT, PGUSER,
// PGDATABASE, PGSSLMODE, and PGSSLROOTCERT with TLS) that connect a child
// process to the database db over TCP, as "NAME=value" strings to append
// to exec.Cmd.Env. pgx reads them too (pgx.Connect(ctx, "")).
func (s *Server) Env(db string) []string {
	env := []string{
		"PGHOST=127.0.0.1",
		"PGPORT=" + strconv.Itoa(s.port),
		"PGUSER=" + s.cfg.Superuser,
		"PGDATABASE=" + db,
		"PGSSLMODE=" + s.sslmode(),
	}
	if s.cfg.TLS {
		// Verifies the server, and keeps a ~/.postgresql/root.crt from
		// being used instead.
		env = append(env, "PGSSLROOTCERT="+s.RootCertFile())
	}
	return env
}
