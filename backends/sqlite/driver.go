package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// This file and driver_cgo.go hold everything that depends on the SQLite
// driver (github.com/mattn/go-sqlite3; see "Driver choice" in doc.go). The
// rest of the package uses database/sql and SQLite's result codes only.

// driverModule is the module path of the SQLite driver.
const driverModule = "github.com/mattn/go-sqlite3"

// fallbackDriverVersion is the driver version in go.mod when this package
// was written; used only when the binary carries no build information.
const fallbackDriverVersion = "v1.14.53"

// sqliteDriver is the driver instance every store opens connections with.
// The store reaches it through a connector, not through database/sql's
// registry (where the driver's own init registers the name "sqlite3").
var sqliteDriver driver.Driver = &sqlite3.SQLiteDriver{}

// connector opens connections to one database file and applies the store's
// per-connection settings to each, whoever in database/sql asks for it.
type connector struct {
	dsn     string
	pragmas []string
}

var _ driver.Connector = (*connector)(nil)

// Connect opens a connection and runs the connector's pragmas on it.
func (c *connector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := sqliteDriver.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	ex, ok := conn.(driver.ExecerContext)
	if !ok {
		_ = conn.Close()
		return nil, fmt.Errorf("sqlite: the driver's connection (%T) cannot execute statements directly", conn)
	}
	for _, p := range c.pragmas {
		if _, err := ex.ExecContext(ctx, p, nil); err != nil {
			return nil, errors.Join(fmt.Errorf("%s: %w", p, err), conn.Close())
		}
	}
	return conn, nil
}

// Driver returns the SQLite driver.
func (c *connector) Driver() driver.Driver { return sqliteDriver }
