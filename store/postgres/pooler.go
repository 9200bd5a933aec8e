package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/store/internal/sqlstore"
)

// Options tune a Store made by NewWith.
type Options struct {
	// Pooler says that the connections go through a pooler in transaction
	// mode (PgBouncer's pool_mode = transaction, Supabase's port 6543,
	// Neon's -pooler host, Prisma's ?pgbouncer=true), where each
	// transaction may run on another server connection. The store then
	// prepares no named statement; each statement goes with its arguments
	// as lib/pq's unnamed one. The DSN of db must then carry
	// binary_parameters=yes, so that lib/pq sends Parse, Bind and Execute
	// in one exchange (without it the pooler can move the connection
	// between the two exchanges); Open adds it, and Verify checks it.
	Pooler bool
}

// NewWith returns a Store on db for tables of flavour f, with options o.
// It panics as New does.
func NewWith(db *sqlx.DB, f adapter.Flavour, o Options) *Store {
	return &Store{s: sqlstore.NewWith(db, f, adapter.Postgres, sqlstore.Options{Unprepared: o.Pooler}), pooler: o.Pooler}
}

// DefaultConnectTimeout is the connect_timeout that Open sets when the
// DSN has none, so that a server that accepts connections and never
// answers cannot hold a new connection for ever (lib/pq waits without
// bound by default).
const DefaultConnectTimeout = 5 * time.Second

// SupabasePoolerPort is the port of Supabase's pooler in transaction mode
// (its session mode listens on 5432).
const SupabasePoolerPort = 6543

// IsPoolerDSN reports whether dsn names a pooler in transaction mode by
// the marks hosted services give it: Prisma's pgbouncer=true parameter,
// Supabase's port 6543, or a Neon host whose first label ends in
// "-pooler". Other poolers are not recognisable from their address: use
// NewWith with Options.Pooler, or add pgbouncer=true to the DSN for Open.
func IsPoolerDSN(dsn string) bool {
	cfg, err := pq.NewConfig(dsn)
	return err == nil && isPooler(cfg)
}

func isPooler(cfg pq.Config) bool {
	if strings.EqualFold(cfg.Runtime["pgbouncer"], "true") || cfg.Port == SupabasePoolerPort {
		return true
	}
	for _, h := range strings.Split(cfg.Host, ",") {
		if label, _, _ := strings.Cut(h, "."); strings.HasSuffix(label, "-pooler") {
			return true
		}
	}
	return false
}

// verifyBinary checks that the connections send parameters in binary
// mode, as Options.Pooler needs.
func (s *Store) verifyBinary(ctx context.Context) error {
	// With binary_parameters lib/pq sends a []byte in binary format,
	// here the four bytes of an int4; without, it sends them as text,
	// which the server refuses.
	var got int32
	err := s.DB().QueryRowContext(ctx, `SELECT $1::int4`, []byte{0, 0, 0, 7}).Scan(&got)
	if err != nil || got != 7 {
		return fmt.Errorf("postgres: a store behind a pooler needs binary_parameters=yes in its DSN (Open adds it): %v", err)
	}
	return nil
}
