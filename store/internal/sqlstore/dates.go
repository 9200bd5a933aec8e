package sqlstore

import (
	"fmt"
	"strconv"
	"time"

	"github.com/nextsession/nextsession/adapter"
)

const (
	isoZ      = "2006-01-02T15:04:05.000Z"
	isoOffset = "2006-01-02T15:04:05.000-07:00"
	// isoPrefix is an ISO date without its zone. Compared as text it is
	// below both "...000Z" and "...000+00:00" of the same instant, and above
	// anything a millisecond earlier, so one bound serves both spellings.
	isoPrefix = "2006-01-02T15:04:05.000"
	// sqliteDate is SQLite's own date text (datetime() writes
	// "2006-01-02 15:04:05"), with only the fraction digits it needs. Its
	// ' ' sorts below the 'T' of isoPrefix, so on the day of now such text
	// needs a range of its own, below isoDay.
	sqliteDate = "2006-01-02 15:04:05.999"
	isoDay     = "2006-01-02T"
)

// encodeDate turns a time into what the dialect stores, on SQLite in the
// flavour's format.
func encodeDate(d adapter.Dialect, format adapter.DateFormat, t time.Time) any {
	t = t.UTC().Truncate(time.Millisecond)
	if d == adapter.Postgres {
		return t
	}
	switch format {
	case adapter.DateISO:
		return t.Format(isoZ)
	case adapter.DateISOOffset:
		return t.Format(isoOffset)
	}
	return t.UnixMilli()
}

// nullDate scans any date a NextAuth schema may hold: a driver time, Unix
// milliseconds as a number or digits, or ISO text with or without a zone
// (read as UTC without one). NULL leaves Valid false.
type nullDate struct {
	Time  time.Time
	Valid bool
}

// Scan implements sql.Scanner.
func (d *nullDate) Scan(v any) error {
	d.Valid = v != nil
	switch x := v.(type) {
	case nil:
		d.Time = time.Time{}
		return nil
	case time.Time:
		d.Time = x.UTC().Truncate(time.Millisecond)
		return nil
	case int64:
		d.Time = time.UnixMilli(x).UTC()
		return nil
	case float64:
		d.Time = time.UnixMilli(int64(x)).UTC()
		return nil
	case []byte:
		return d.parse(string(x))
	case string:
		return d.parse(x)
	}
	return fmt.Errorf("cannot read a date from %T", v)
}

var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

func (d *nullDate) parse(s string) error {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		d.Time = time.UnixMilli(ms).UTC()
		return nil
	}
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			d.Time = t.UTC().Truncate(time.Millisecond)
			return nil
		}
	}
	d.Valid = false
	return fmt.Errorf("cannot read a date from %q", s)
}

// ptr returns the date as a *time.Time, nil for NULL.
func (d nullDate) ptr() *time.Time {
	if !d.Valid {
		return nil
	}
	t := d.Time
	return &t
}
