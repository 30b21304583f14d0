package main

import (
	"context"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backends/postgres"
)

// pgStat is what stat shows of a store on PostgreSQL.
type pgStat struct {
	Database string `json:"database"`
	Schema   string `json:"schema"`
	// Bytes is the size of the store's tables with their indexes.
	Bytes int64 `json:"bytes"`
}

// statPostgres describes the schema of s when s is on PostgreSQL, and
// returns nil otherwise.
func (a *app) statPostgres(ctx context.Context, s *eventstore.Store) (*pgStat, error) {
	if s.Backend() != postgres.Name {
		return nil, nil
	}
	info, err := inspect(ctx, a.pgOptions())
	if err != nil {
		return nil, err
	}
	return &pgStat{Database: info.Database, Schema: info.Schema, Bytes: info.Bytes}, nil
}
