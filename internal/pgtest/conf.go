package pgtest

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// A setting is one line of postgresql.conf.
type setting struct{ name, value string }

// settings lists the server's settings, in the order they are written:
// this package's, then cfg.Settings by name.
func settings(cfg Config, l layout, port int) []setting {
	s := []setting{
		{"listen_addresses", quote("127.0.0.1")},
		{"port", strconv.Itoa(port)},
		{"unix_socket_directories", quote(l.sock)},
		{"max_connections", strconv.Itoa(cfg.MaxConnections)},
		{"shared_buffers", quote(cfg.SharedBuffers)},
		// Durability as in production: a commit that returned is on disk.
		{"fsync", "on"},
		{"synchronous_commit", "on"},
		{"full_page_writes", "on"},
		// In the data directory, so that removing it frees the segments
		// of a killed server too.
		{"dynamic_shared_memory_type", "mmap"},
		// The log goes to stderr, which is postgres.log.
		{"logging_collector", "off"},
		{"log_destination", quote("stderr")},
		{"log_line_prefix", quote("%m [%p] %q%a ")},
		{"log_timezone", quote("UTC")},
		{"timezone", quote("UTC")},
	}
	if cfg.TLS {
		s = append(s,
			setting{"ssl", "on"},
			setting{"ssl_cert_file", quote(certFile)},
			setting{"ssl_key_file", quote(keyFile)},
		)
	} else {
		s = append(s, setting{"ssl", "off"})
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.Settings)) {
		s = append(s, setting{name, cfg.Settings[name]})
	}
	return s
}

// writeSettings writes the settings to includeConf in the data directory.
func writeSettings(cfg Config, l layout, acct account, port int) error {
	var b strings.Builder
	b.WriteString("# Written by pgtest at each start; included from postgresql.conf.\n")
	for _, s := range settings(cfg, l, port) {
		fmt.Fprintf(&b, "%s = %s\n", s.name, s.value)
	}
	path := filepath.Join(l.data, includeConf)
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("pgtest: write the settings: %w", err)
	}
	return acct.chown(path)
}

// quote makes s a postgresql.conf string literal.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
