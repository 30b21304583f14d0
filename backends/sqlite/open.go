package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/durablelog/eventstore/backend"
)

// The identity and schema of the database file.
const (
	// applicationID marks the file as an eventstore store in the database
	// header (PRAGMA application_id): "ESKV".
	applicationID = 0x45534b56
	// formatVersion is the layout of the file (PRAGMA user_version): one
	// table, kv. sqlMarker writes the same value.
	formatVersion = 1
	// sqlCreate creates the one table. WITHOUT ROWID stores the rows in
	// the primary key's b-tree, in key order; a BLOB column has BLOB
	// affinity, so keys stay BLOBs and compare as bytes.Compare does.
	sqlCreate = "CREATE TABLE kv (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID"
	// maxCheckMessages bounds the problems an integrity check reports.
	maxCheckMessages = 10
)

// Open opens the SQLite store in dir, creating dir and the database when
// they are missing, and returns once SQLite has recovered its write-ahead
// log and the integrity check of Options.OpenCheck has passed.
// opts.Config must be nil, Options or *Options; Open copies it and never
// modifies it.
//
// Open fails when dir exists and is not a directory, when the database file
// belongs to another application, and, with an error wrapping
// backend.ErrCorrupt that names the database file, when SQLite finds the
// file damaged (SQLITE_CORRUPT, SQLITE_NOTADB) or the integrity check
// reports a problem.
func (Engine) Open(dir string, opts backend.Options) (backend.KV, error) {
	cfg, err := configFrom(opts.Config)
	if err != nil {
		return nil, err
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	abs, err := prepareDir(dir)
	if err != nil {
		return nil, err
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	file := filepath.Join(abs, FileName)
	s := &kv{dir: abs, file: file, log: logger.With("engine", Name, "file", file)}
	if err := s.open(cfg); err != nil {
		if cerr := errors.Join(s.closeReaders(), s.w.close()); cerr != nil {
			err = errors.Join(err, fmt.Errorf("sqlite: close after the failed open: %w", cerr))
		}
		return nil, err
	}
	return s, nil
}

// prepareDir checks that dir is a directory, creating it when it is
// missing, and returns its absolute path.
func prepareDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("sqlite: cannot open store in %s: %w", dir, err)
	}
	fi, err := os.Stat(abs)
	switch {
	case err == nil && !fi.IsDir():
		return "", fmt.Errorf("sqlite: cannot open store: %s is not a directory; pass the directory that holds (or will hold) the store's files", dir)
	case errors.Is(err, fs.ErrNotExist):
		if err := mkdirSynced(abs); err != nil {
			return "", fmt.Errorf("sqlite: cannot create the store's directory: %w", err)
		}
	case err != nil:
		return "", fmt.Errorf("sqlite: cannot open store in %s: %w", dir, err)
	}
	return abs, nil
}

// dsn returns the URI that opens file: a "file:" URI, so that no character
// of the path is taken for a parameter.
func dsn(file string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(file)}).String()
}

// open opens the writer connection, sets up and checks the database, then
// opens the read connections. On an error the caller closes what is open.
func (s *kv) open(cfg Options) error {
	uri := dsn(s.file)
	s.uri, s.pragmas = uri, cfg.pragmas()
	w := &writer{file: s.file, checkpointPages: cfg.AutoCheckpoint}
	s.w = w
	// SQLite's own automatic checkpoint ignores its I/O errors, a failed
	// fsync of the log included; the writer checkpoints instead, and
	// fails the store on an error (see writer.autoCheckpoint).
	w.db = sql.OpenDB(&connector{dsn: uri, pragmas: append(cfg.pragmas(),
		"PRAGMA synchronous = NORMAL",
		"PRAGMA wal_autocheckpoint = 0",
	)})
	w.db.SetMaxOpenConns(1)
	var err error
	if w.conn, err = w.db.Conn(ctx); err != nil {
		return wrap("open", s.file, err)
	}
	if err := w.prepareControl(); err != nil {
		return err
	}
	var mode string
	if err := w.conn.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil {
		return wrap("open (set WAL mode)", s.file, err)
	}
	if mode != "wal" {
		return fmt.Errorf("sqlite: open %s: cannot switch to WAL mode (the journal mode stays %q); check that the file system supports shared memory and file locks", s.file, mode)
	}
	clean, err := takeCleanMark(s.dir)
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w", s.file, err)
	}
	check := cfg.OpenCheck
	if check == CheckAfterCrash {
		check = CheckQuick
		if clean {
			check = CheckNone
		}
	}
	if err := s.check(check); err != nil {
		return err
	}
	if err := s.setupSchema(); err != nil {
		return err
	}
	if err := w.prepareWrites(); err != nil {
		return err
	}
	// The database file's directory entry: SQLite fsyncs the directory
	// for the write-ahead log it creates, not for the database file.
	if err := syncDir(s.dir); err != nil {
		return fmt.Errorf("sqlite: open %s: %w", s.file, err)
	}
	var lib string
	if err := w.conn.QueryRowContext(ctx, "SELECT sqlite_version()").Scan(&lib); err != nil {
		return wrap("open", s.file, err)
	}
	s.version = engineVersion(lib)
	return s.openReaders(uri, cfg)
}

// check runs the integrity check c and returns an error wrapping
// backend.ErrCorrupt when it reports a problem.
func (s *kv) check(c OpenCheck) error {
	if c == CheckNone {
		return nil
	}
	pragma := fmt.Sprintf("PRAGMA %s(%d)", c, maxCheckMessages)
	rows, err := s.w.conn.QueryContext(ctx, pragma)
	if err != nil {
		return wrap("open ("+c.String()+")", s.file, err)
	}
	var msgs []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return errors.Join(wrap("open ("+c.String()+")", s.file, err), rows.Close())
		}
		msgs = append(msgs, m)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return wrap("open ("+c.String()+")", s.file, err)
	}
	if len(msgs) == 1 && msgs[0] == "ok" {
		return nil
	}
	return corruptError("open ("+c.String()+")", s.file, fmt.Errorf("PRAGMA %s found: %s", c, strings.Join(msgs, "; ")))
}

// setupSchema creates the kv table in a new database, or checks that an
// existing database is a store of this engine, in one transaction committed
// with synchronous=FULL.
func (s *kv) setupSchema() error {
	w := s.w
	if err := w.setLevel(true); err != nil {
		return wrap("open (set synchronous)", s.file, err)
	}
	if _, err := w.begin.ExecContext(ctx); err != nil {
		return wrap("open (begin)", s.file, err)
	}
	if err := s.schema(); err != nil {
		return w.abort(err)
	}
	if _, err := w.commit.ExecContext(ctx); err != nil {
		return w.abort(wrap("open (commit the schema)", s.file, err))
	}
	return nil
}

// schema is the body of setupSchema's transaction.
func (s *kv) schema() error {
	c := s.w.conn
	var appID, version, objects int
	if err := c.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return wrap("open (read the header)", s.file, err)
	}
	if err := c.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return wrap("open (read the header)", s.file, err)
	}
	if err := c.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&objects); err != nil {
		return wrap("open (read the schema)", s.file, err)
	}
	if appID == 0 && version == 0 && objects == 0 {
		for _, q := range []string{
			fmt.Sprintf("PRAGMA application_id = %d", applicationID),
			fmt.Sprintf("PRAGMA user_version = %d", formatVersion),
			sqlCreate,
		} {
			if _, err := c.ExecContext(ctx, q); err != nil {
				return wrap("open (create the schema)", s.file, err)
			}
		}
		return nil
	}
	if appID != applicationID {
		return fmt.Errorf("sqlite: open %s: the file is not an eventstore store (its application_id is %#x, not %#x); point the store at a directory of its own", s.file, appID, applicationID)
	}
	if version != formatVersion {
		return fmt.Errorf("sqlite: open %s: the store has format version %d, this build reads version %d: upgrade eventstore", s.file, version, formatVersion)
	}
	var ddl string
	err := c.QueryRowContext(ctx, "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'kv'").Scan(&ddl)
	if errors.Is(err, sql.ErrNoRows) {
		return corruptError("open", s.file, errors.New("the kv table is missing"))
	}
	if err != nil {
		return wrap("open (read the schema)", s.file, err)
	}
	if ddl != sqlCreate {
		return corruptError("open", s.file, fmt.Errorf("the kv table has the definition %q, want %q", ddl, sqlCreate))
	}
	return nil
}

// openReaders opens the pool of read connections and prepares the read
// statements. The read connections are query-only.
func (s *kv) openReaders(uri string, cfg Options) error {
	s.rdb = sql.OpenDB(&connector{dsn: uri, pragmas: append(cfg.pragmas(), "PRAGMA query_only = ON")})
	s.rdb.SetMaxIdleConns(cfg.MaxIdleReaders)
	var err error
	if s.get, err = s.rdb.PrepareContext(ctx, "SELECT value FROM kv WHERE key = ?"); err != nil {
		return wrap("open (prepare reads)", s.file, err)
	}
	for v := range s.iterq {
		q := iterQuery(v&1 != 0, v&2 != 0, v&4 != 0)
		if s.iterq[v], err = s.rdb.PrepareContext(ctx, q); err != nil {
			return wrap("open (prepare reads)", s.file, err)
		}
	}
	return nil
}

// mkdirSynced creates the directory dir and its missing parents, and fsyncs
// the parent of each directory it created, so that the new directories
// survive a power cut.
func mkdirSynced(dir string) error {
	var created []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		created = append(created, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, d := range created {
		if err := syncDir(filepath.Dir(d)); err != nil {
			return err
		}
	}
	return nil
}

// syncDir fsyncs the directory dir, making the creation of its entries
// durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		return errors.Join(fmt.Errorf("fsync directory %s: %w", dir, err), d.Close())
	}
	return d.Close()
}
