package sqlstore

import (
	"database/sql"
	"sync"
)

// nullText scans a text column that may be NULL, as sql.NullString does.
// Every session and user column of a validation is one, so the common
// values, text and NULL, are assigned here directly, without
// database/sql's conversion looking for a Scanner and then converting
// again; any other value gets sql.NullString's conversion.
type nullText struct {
	String string
	Valid  bool
}

// Scan implements sql.Scanner.
func (t *nullText) Scan(v any) error {
	switch x := v.(type) {
	case string:
		t.String, t.Valid = x, true
		return nil
	case nil:
		t.String, t.Valid = "", false
		return nil
	}
	var ns sql.NullString
	err := ns.Scan(v)
	t.String, t.Valid = ns.String, ns.Valid
	return err
}

// sessionUserScan receives a row of session columns then user columns.
// The destinations live in it, so that scanning allocates nothing more
// than the row itself.
type sessionUserScan struct {
	s   sessionScan
	u   userScan
	dst [12]any
}

// dest lists where the columns go, as sessionScan.dest and userScan.dest
// list them.
func (x *sessionUserScan) dest(device bool) []any {
	d := append(x.dst[:0], x.s.dest(device)...)
	return append(d, x.u.dest()...)
}

// sessionUserScans holds the sessionUserScan of finished validations for
// the next ones: the Session and User returned are copied out of it, so
// that it need not be allocated per request.
var sessionUserScans = sync.Pool{New: func() any { return new(sessionUserScan) }}

func getSessionUserScan() *sessionUserScan {
	return sessionUserScans.Get().(*sessionUserScan)
}

// putSessionUserScan clears x, so that the pool keeps no row's values
// alive, and gives it back.
func putSessionUserScan(x *sessionUserScan) {
	*x = sessionUserScan{}
	sessionUserScans.Put(x)
}
