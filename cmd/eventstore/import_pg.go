package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backends/postgres"
	"github.com/durablelog/eventstore/internal/dump"
)

// importToPostgres imports the dump into the schema --schema, which must not
// exist or be empty, through a staging schema; --dir, when given, becomes a
// new local directory of the store.
func (a *app) importToPostgres(ctx context.Context, in string, dr *dump.Reader, res *importResult) (err error) {
	target := a.pgOptions()
	if a.dir != "" {
		if err := checkEmptyDest(a.dir, "import target"); err != nil {
			return err
		}
	}
	ps, err := newPgStaging(ctx, a, target)
	if err != nil {
		return err
	}
	res.Backend, res.Dir = postgres.Name, a.dir
	res.CheckSeconds, err = importInto(ctx, a, ps.dir, postgres.Name, dr, nil, eventstore.WithBackendConfig(ps.opts))
	if err == nil {
		err = ps.commit(ctx, 0)
	}
	if err != nil {
		ps.abort()
		return fmt.Errorf("import %s: %w; nothing was imported, schema %q is as it was", in, err, target.Schema)
	}
	// A new store starts at generation 1.
	_, res.Location, err = newPgLocalDir(ctx, a, a.dir, target, uint64(dr.Trailer().Last), 1, false)
	if err != nil {
		return fmt.Errorf("the dump is in schema %q with every record checked, but %w", target.Schema, err)
	}
	return nil
}

// isNotEmptySchema reports whether err says a schema is not empty.
func isNotEmptySchema(err error) bool { return errors.Is(err, postgres.ErrSchemaNotEmpty) }
