package bench

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"sync/atomic"
)

// Counter counts what a database handle sends to its server: statements
// executed (Query/Exec, prepared or not), prepares, and network round trips
// as lib/pq makes them. It is used on a second handle, apart from the one
// that is timed, so that counting costs nothing in the timings.
type Counter struct {
	Statements atomic.Int64
	Prepares   atomic.Int64
	RoundTrips atomic.Int64
	// unpreparedTrips is what one Query or Exec with arguments on a bare
	// connection costs: lib/pq sends Parse/Describe/Sync and waits, then
	// Bind/Execute/Sync (2); SQLite has no server (0).
	unpreparedTrips int64
	perTrip         int64
}

// Reset zeroes the counts.
func (c *Counter) Reset() {
	c.Statements.Store(0)
	c.Prepares.Store(0)
	c.RoundTrips.Store(0)
}

// OpenCounted returns a *sql.DB whose connections come from connector and
// are counted in c. postgres says whether round trips are lib/pq's.
func OpenCounted(connector driver.Connector, postgres bool) (*sql.DB, *Counter) {
	c := &Counter{}
	if postgres {
		c.unpreparedTrips, c.perTrip = 2, 1
	}
	return sql.OpenDB(countConnector{connector, c}), c
}

func (c *Counter) stmt(args int) {
	c.Statements.Add(1)
	if args > 0 {
		c.RoundTrips.Add(c.unpreparedTrips)
	} else {
		c.RoundTrips.Add(c.perTrip)
	}
}

type countConnector struct {
	driver.Connector
	c *Counter
}

func (k countConnector) Connect(ctx context.Context) (driver.Conn, error) {
	cn, err := k.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countConn{cn, k.c}, nil
}

// countConn forwards every optional interface the drivers in use have;
// where the inner connection lacks one it answers as database/sql expects
// (driver.ErrSkip), so the behaviour is the inner driver's.
type countConn struct {
	driver.Conn
	c *Counter
}

func (cn *countConn) Prepare(q string) (driver.Stmt, error) {
	return cn.PrepareContext(context.Background(), q)
}

func (cn *countConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	cn.c.Prepares.Add(1)
	cn.c.RoundTrips.Add(cn.c.perTrip)
	var st driver.Stmt
	var err error
	if p, ok := cn.Conn.(driver.ConnPrepareContext); ok {
		st, err = p.PrepareContext(ctx, q)
	} else {
		st, err = cn.Conn.Prepare(q)
	}
	if err != nil {
		return nil, err
	}
	return &countStmt{st, cn}, nil
}

func (cn *countConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	qc, ok := cn.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	cn.c.stmt(len(args))
	return qc.QueryContext(ctx, q, args)
}

func (cn *countConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	ec, ok := cn.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	cn.c.stmt(len(args))
	return ec.ExecContext(ctx, q, args)
}

func (cn *countConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	cn.c.stmt(0)
	var tx driver.Tx
	var err error
	if b, ok := cn.Conn.(driver.ConnBeginTx); ok {
		tx, err = b.BeginTx(ctx, opts)
	} else {
		tx, err = cn.Conn.Begin() //nolint:staticcheck // the fallback database/sql itself uses
	}
	if err != nil {
		return nil, err
	}
	return countTx{tx, cn.c}, nil
}

func (cn *countConn) Ping(ctx context.Context) error {
	if p, ok := cn.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (cn *countConn) ResetSession(ctx context.Context) error {
	if r, ok := cn.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (cn *countConn) IsValid() bool {
	if v, ok := cn.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (cn *countConn) CheckNamedValue(nv *driver.NamedValue) error {
	if c, ok := cn.Conn.(driver.NamedValueChecker); ok {
		return c.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

type countTx struct {
	driver.Tx
	c *Counter
}

func (t countTx) Commit() error   { t.c.stmt(0); return t.Tx.Commit() }
func (t countTx) Rollback() error { t.c.stmt(0); return t.Tx.Rollback() }

type countStmt struct {
	driver.Stmt
	cn *countConn
}

func (s *countStmt) count() {
	s.cn.c.Statements.Add(1)
	s.cn.c.RoundTrips.Add(s.cn.c.perTrip)
}

func (s *countStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.count()
	if e, ok := s.Stmt.(driver.StmtExecContext); ok {
		return e.ExecContext(ctx, args)
	}
	return s.Stmt.Exec(values(args)) //nolint:staticcheck // fallback for old drivers
}

func (s *countStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.count()
	if q, ok := s.Stmt.(driver.StmtQueryContext); ok {
		return q.QueryContext(ctx, args)
	}
	return s.Stmt.Query(values(args)) //nolint:staticcheck // fallback for old drivers
}

// CheckNamedValue keeps the inner statement's checker, else the
// connection's, which database/sql would have used.
func (s *countStmt) CheckNamedValue(nv *driver.NamedValue) error {
	if c, ok := s.Stmt.(driver.NamedValueChecker); ok {
		return c.CheckNamedValue(nv)
	}
	return s.cn.CheckNamedValue(nv)
}

func values(args []driver.NamedValue) []driver.Value {
	out := make([]driver.Value, len(args))
	for i, a := range args {
		out[i] = a.Value
	}
	return out
}
