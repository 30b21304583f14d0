package eventstore

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/internal/snapfile"
)

// DefaultBackend is the engine Open uses for a new store when WithBackend is
// not given. An existing store always reopens with the engine it was created
// with, which the directory records.
const DefaultBackend = "rocksdb"

// DefaultMaxEventSize is the default limit on an event's Data: 4 MiB.
const DefaultMaxEventSize = 4 << 20

// Limits on names.
const (
	MaxStreamNameLen = 255
	MaxTypeLen       = 255
	MaxIDLen         = 255
)

// Option configures Open.
type Option func(*options) error

type options struct {
	backend        string
	engine         backend.Engine
	backendConfig  any
	stateMachine   StateMachine
	policy         SnapshotPolicy
	durability     Durability
	logger         *slog.Logger
	maxEventSize   int
	maxBatchEvents int
	maxBatchBytes  int
	retention      int
	snapshotHooks  snapfile.Hooks
	mustExist      bool
	openTimeout    time.Duration
}

// DefaultOpenTimeout bounds how long Open waits for a backend that is
// reached over the network, such as PostgreSQL (WithOpenTimeout).
const DefaultOpenTimeout = 30 * time.Second

func defaultOptions() options {
	return options{durability: Sync, maxEventSize: DefaultMaxEventSize, openTimeout: DefaultOpenTimeout}
}

// WithOpenTimeout bounds how long Open waits for a backend reached over the
// network (connecting, checking or creating its schema, reading its head);
// past it, Open fails with context.DeadlineExceeded in the chain. The
// default is DefaultOpenTimeout. Embedded engines ignore it.
func WithOpenTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("eventstore: WithOpenTimeout(%v): the timeout must be positive", d)
		}
		o.openTimeout = d
		return nil
	}
}

// WithBackend names the storage engine: "rocksdb" (the primary), "pebble",
// "badger" or "memory", or any other registered name. The engine's package
// must be imported, usually with a blank import, to register it. The default
// is the engine recorded in the directory, and DefaultBackend for a new
// store. Naming another engine than the directory's fails with
// ErrBackendMismatch.
func WithBackend(name string) Option {
	return func(o *options) error {
		if name == "" {
			return fmt.Errorf("%w: WithBackend(\"\"): name an engine, one of %v", ErrUnknownBackend, backend.Names())
		}
		o.backend = name
		return nil
	}
}

// WithEngine uses e under name without registering it, for engines that are
// not registered, such as test doubles. The name is recorded in the
// directory like a registered engine's.
func WithEngine(name string, e backend.Engine) Option {
	return func(o *options) error {
		if name == "" || e == nil {
			return fmt.Errorf("eventstore: WithEngine needs a name and a non-nil engine")
		}
		o.backend, o.engine = name, e
		return nil
	}
}

// WithExistingStore makes Open fail with ErrNoStore, creating nothing, when
// dir holds no store yet, instead of creating one: for tools and services
// that must open a store that exists, and would otherwise start an empty one
// in a mistyped path. The default creates a missing store.
func WithExistingStore() Option {
	return func(o *options) error {
		o.mustExist = true
		return nil
	}
}

// WithBackendConfig passes engine-specific settings, such as a
// rocksdb.Options, pebble.Options or badger.Options value, to the engine. The
// default, nil, is the engine's defaults. An engine rejects a value of a type
// it does not know.
func WithBackendConfig(cfg any) Option {
	return func(o *options) error {
		o.backendConfig = cfg
		return nil
	}
}

// WithStateMachine attaches the caller's state. Open restores and replays it
// before it returns, and every commit is applied to it. See StateMachine.
func WithStateMachine(sm StateMachine) Option {
	return func(o *options) error {
		if sm == nil {
			return fmt.Errorf("eventstore: WithStateMachine(nil)")
		}
		o.stateMachine = sm
		return nil
	}
}

// WithSnapshotPolicy says when to snapshot the state machine. The default,
// with a state machine, is EveryN(1000).
func WithSnapshotPolicy(p SnapshotPolicy) Option {
	return func(o *options) error {
		if p == nil {
			return fmt.Errorf("eventstore: WithSnapshotPolicy(nil): use Never() to turn automatic snapshots off")
		}
		o.policy = p
		return nil
	}
}

// WithDurability says when an append is acknowledged. The default is Sync.
func WithDurability(d Durability) Option {
	return func(o *options) error {
		if d != Sync && d != NoSync {
			return fmt.Errorf("eventstore: unknown durability %v: use Sync or NoSync", d)
		}
		o.durability = d
		return nil
	}
}

// WithLogger sets the logger for recovery reports and diagnostics. The
// default, also for a nil logger, discards everything.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		o.logger = l
		return nil
	}
}

// WithMaxEventSize sets the largest Data an event may carry, in bytes. The
// default is DefaultMaxEventSize (4 MiB).
func WithMaxEventSize(n int) Option {
	return func(o *options) error {
		if n <= 0 {
			return fmt.Errorf("eventstore: WithMaxEventSize(%d): the size must be positive", n)
		}
		o.maxEventSize = n
		return nil
	}
}

// WithGroupCommit bounds how many events and bytes one group commit
// coalesces from concurrent appends. The defaults are 8192 events and 16 MiB;
// zero keeps a default. A single append larger than the bounds still commits,
// alone.
func WithGroupCommit(maxEvents, maxBytes int) Option {
	return func(o *options) error {
		if maxEvents < 0 || maxBytes < 0 {
			return fmt.Errorf("eventstore: WithGroupCommit(%d, %d): bounds must not be negative", maxEvents, maxBytes)
		}
		o.maxBatchEvents, o.maxBatchBytes = maxEvents, maxBytes
		return nil
	}
}

// WithSnapshotRetention sets how many of the newest valid snapshots to keep;
// older ones are pruned after each new snapshot. The default is
// DefaultSnapshotRetention (3).
func WithSnapshotRetention(k int) Option {
	return func(o *options) error {
		if k < 1 {
			return fmt.Errorf("eventstore: WithSnapshotRetention(%d): keep at least one snapshot", k)
		}
		o.retention = k
		return nil
	}
}
