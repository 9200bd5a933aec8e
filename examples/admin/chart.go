package main

import (
	"context"
	"fmt"
	"html"
	"html/template"
	"strings"
	"time"

	"github.com/nextsession/nextsession/adapter"
)

const (
	day       = 24 * time.Hour
	chartDays = 30
)

// ageBuckets are the bands of the "active sessions by age" chart: how long
// ago each active session signed in.
var ageBuckets = []struct {
	label string
	upTo  time.Duration // exclusive; 0 for the last, open band
}{
	{"under 1 hour", time.Hour},
	{"1 hour – 1 day", day},
	{"1 – 7 days", 7 * day},
	{"7 – 30 days", 30 * day},
	{"30 days or more", 0},
}

// millis is a date column as Unix milliseconds in SQL: on Postgres from
// its timestamp (a timestamp without zone holds UTC), on SQLite from
// whatever the flavour wrote, numbers or text.
func millis(d adapter.Dialect, col string) string {
	if d == adapter.Postgres {
		return fmt.Sprintf("(EXTRACT(EPOCH FROM %s) * 1000)", col)
	}
	return fmt.Sprintf(`(CASE WHEN typeof(%[1]s) IN ('integer', 'real') THEN %[1]s ELSE ROUND((julianday(%[1]s) - 2440587.5) * 86400000) END)`, col)
}

// chartData is what the charts draw: sign-ins per day over the last
// chartDays days (UTC), oldest first, and active sessions per age band.
type chartData struct {
	First time.Time // the day of Days[0]
	Days  [chartDays]int64
	Ages  []int64
}

// chartData reads the charts' numbers with two aggregate queries over the
// Session table: sessions revoked, signed out or swept after expiry are
// no longer there, so the history counts sign-ins that still have a row.
func (s *server) chartData(ctx context.Context) (chartData, error) {
	db := s.st.DB()
	f := s.cfg.Flavour
	d := adapter.SQLite
	if s.cfg.DatabaseURL != "" {
		d = adapter.Postgres
	}
	S, n := f.QuoteTable(f.Tables.Session), f.Names().Session
	created, expires := millis(d, adapter.Quote(n.CreatedAt)), millis(d, adapter.Quote(n.Expires))
	now := time.Now().UTC()
	c := chartData{First: now.Truncate(day).Add(-(chartDays - 1) * day), Ages: make([]int64, len(ageBuckets))}

	// The day's index: not negative, so truncation is floor (SQLite's
	// floor() is an optional extension).
	index := "floor((%[1]s - ?) / 86400000)"
	if d == adapter.SQLite {
		index = "CAST((%[1]s - ?) / 86400000 AS INTEGER)"
	}
	rows, err := db.QueryContext(ctx, db.Rebind(fmt.Sprintf(
		`SELECT `+index+`, count(*) FROM %[2]s WHERE %[1]s IS NOT NULL AND %[1]s >= ? GROUP BY 1`, created, S)),
		c.First.UnixMilli(), c.First.UnixMilli())
	if err != nil {
		return c, err
	}
	defer rows.Close()
	for rows.Next() {
		var i float64
		var n int64
		if err := rows.Scan(&i, &n); err != nil {
			return c, err
		}
		if i >= 0 && int(i) < chartDays {
			c.Days[int(i)] += n
		}
	}
	if err := rows.Err(); err != nil {
		return c, err
	}

	var band strings.Builder
	var args []any
	band.WriteString("CASE")
	for i, b := range ageBuckets[:len(ageBuckets)-1] {
		fmt.Fprintf(&band, " WHEN %s > ? THEN %d", created, i)
		args = append(args, now.Add(-b.upTo).UnixMilli())
	}
	fmt.Fprintf(&band, " ELSE %d END", len(ageBuckets)-1)
	args = append(args, now.UnixMilli())
	rows, err = db.QueryContext(ctx, db.Rebind(fmt.Sprintf(
		`SELECT %s, count(*) FROM %s WHERE %s IS NOT NULL AND %s >= ? GROUP BY 1`, band.String(), S, created, expires)), args...)
	if err != nil {
		return c, err
	}
	defer rows.Close()
	for rows.Next() {
		var i int
		var n int64
		if err := rows.Scan(&i, &n); err != nil {
			return c, err
		}
		if i >= 0 && i < len(c.Ages) {
			c.Ages[i] += n
		}
	}
	return c, rows.Err()
}

// chartTTL is how long drawn charts are reused: their two queries scan
// the Session table, which every dashboard load need not repeat.
const chartTTL = time.Minute

// chart draws the charts as inline SVG, at most once per chartTTL. Colours
// come from the style sheet's classes, so they follow light and dark mode.
func (s *server) chart(ctx context.Context) (template.HTML, error) {
	if !s.cfg.Flavour.SessionCreatedAt {
		return template.HTML(`<p class="muted">This schema's Session table has no createdAt column: there is no sign-in history to draw.</p>`), nil
	}
	s.chartMu.Lock()
	defer s.chartMu.Unlock()
	if s.chartSVG != "" && time.Since(s.chartAt) < chartTTL {
		return s.chartSVG, nil
	}
	c, err := s.chartData(ctx)
	if err != nil {
		return "", err
	}
	s.chartSVG, s.chartAt = template.HTML(c.daysSVG()+c.agesSVG()), time.Now()
	return s.chartSVG, nil
}

// scale returns a round maximum for an axis holding up to n.
func scale(n int64) int64 {
	for p := int64(1); p <= 1e15; p *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if n <= m*p {
				return m * p
			}
		}
	}
	return n
}

func (c chartData) daysSVG() string {
	// Sized near the width it is shown at, so that its text reads at the
	// page's size.
	const w, h, left, bottom, top = 480, 160, 30, 22, 10
	var peak, total int64
	for _, n := range c.Days {
		peak, total = max(peak, n), total+n
	}
	top2 := scale(max(peak, 1))
	plotH := float64(h - bottom - top)
	barW := float64(w-left) / chartDays
	var b strings.Builder
	fmt.Fprintf(&b, `<figure class="chart"><figcaption><strong>Sign-ins per day</strong>, last %d days (UTC): %s</figcaption>`, chartDays, plural(total, "sign-in"))
	fmt.Fprintf(&b, `<svg viewBox="0 0 %d %d" role="img" aria-label="Sign-ins per day over the last %d days: %s; the busiest day had %d">`,
		w, h, chartDays, plural(total, "sign-in"), peak)
	for _, frac := range []float64{0, .5, 1} {
		y := float64(top) + plotH*(1-frac)
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, left, w, y, y)
		fmt.Fprintf(&b, `<text class="axis" x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%d</text>`, left-5, y, int64(frac*float64(top2)))
	}
	for i, n := range c.Days {
		bh := plotH * float64(n) / float64(top2)
		x := float64(left) + float64(i)*barW
		date := c.First.Add(time.Duration(i) * day)
		fmt.Fprintf(&b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="2"><title>%s: %s</title></rect>`,
			x+barW*.15, float64(top)+plotH-bh, barW*.7, max(bh, 0), date.Format("Jan 2"), plural(n, "sign-in"))
		if i%7 == 1 && i < chartDays-4 || i == chartDays-1 {
			label := date.Format("Jan 2")
			if i == chartDays-1 {
				label = "today"
			}
			fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x+barW/2, h-6, label)
		}
	}
	b.WriteString(`</svg></figure>`)
	return b.String()
}

func (c chartData) agesSVG() string {
	const w, rowH, labelW = 300, 24, 104
	var peak, total int64
	for _, n := range c.Ages {
		peak, total = max(peak, n), total+n
	}
	h := rowH * len(c.Ages)
	var b strings.Builder
	fmt.Fprintf(&b, `<figure class="chart"><figcaption><strong>Active sessions by age</strong> since sign-in: %s</figcaption>`, plural(total, "session"))
	fmt.Fprintf(&b, `<svg viewBox="0 0 %d %d" role="img" aria-label="Active sessions by time since sign-in">`, w, h)
	barMax := float64(w - labelW - 40)
	for i, n := range c.Ages {
		y := i * rowH
		bw := 0.0
		if peak > 0 {
			bw = barMax * float64(n) / float64(peak)
		}
		label := html.EscapeString(ageBuckets[i].label)
		fmt.Fprintf(&b, `<text class="axis" x="%d" y="%d" text-anchor="end" dominant-baseline="middle">%s</text>`, labelW-8, y+rowH/2, label)
		fmt.Fprintf(&b, `<rect class="bar alt" x="%d" y="%d" width="%.1f" height="%d" rx="3"><title>%s: %s</title></rect>`,
			labelW, y+5, bw, rowH-10, label, plural(n, "session"))
		fmt.Fprintf(&b, `<text class="value" x="%.1f" y="%d" dominant-baseline="middle">%d</text>`, float64(labelW)+bw+6, y+rowH/2, n)
	}
	b.WriteString(`</svg></figure>`)
	return b.String()
}
