package sqlstore

import (
	"database/sql"
	"testing"
	"time"
)

// TestNullTextAsNullString checks that nullText reads every value a
// driver may hand over as sql.NullString does: the ids of serial flavours
// are integers, some drivers give text as bytes.
func TestNullTextAsNullString(t *testing.T) {
	vals := []any{
		nil, "", "abc", "\x00\xff", []byte("bytes"), []byte{}, int64(-42), int64(0), float64(1.5),
		true, time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), struct{}{},
	}
	for _, v := range vals {
		var got nullText
		got.String, got.Valid = "stale", true // a reused destination
		var want sql.NullString
		want.String, want.Valid = "stale", true
		gotErr, wantErr := got.Scan(v), want.Scan(v)
		if (gotErr == nil) != (wantErr == nil) || (gotErr == nil && (got.String != want.String || got.Valid != want.Valid)) {
			t.Errorf("%T %v: got %q %v %v, want %q %v %v", v, v, got.String, got.Valid, gotErr, want.String, want.Valid, wantErr)
		}
	}
	b := []byte("mutable")
	var x nullText
	if err := x.Scan(b); err != nil {
		t.Fatal(err)
	}
	b[0] = 'X'
	if x.String != "mutable" {
		t.Errorf("the driver's buffer is shared: %q", x.String)
	}
}
