package main

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nextsession/nextsession/session"
)

// Metrics are the Prometheus series fed by a Manager's events.
type Metrics struct {
	SignIns     prometheus.Counter
	SignOuts    prometheus.Counter
	Revocations *prometheus.CounterVec // by how: one session, or a user's
	Expired     prometheus.Counter
	Swept       prometheus.Counter
	SweepErrors prometheus.Counter
	SweepTime   prometheus.Histogram
}

// NewMetrics registers the series on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		SignIns: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "nextsession_signins_total", Help: "Sessions created by sign-in.",
		}),
		SignOuts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "nextsession_signouts_total", Help: "Sessions ended by sign-out.",
		}),
		Revocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nextsession_revoked_sessions_total", Help: "Sessions revoked, by scope (session or user).",
		}, []string{"scope"}),
		Expired: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "nextsession_expired_on_read_total", Help: "Sessions found expired when read, and deleted.",
		}),
		Swept: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "nextsession_swept_sessions_total", Help: "Expired sessions deleted by the sweeper.",
		}),
		SweepErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "nextsession_sweep_errors_total", Help: "Sweeps that failed.",
		}),
		SweepTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "nextsession_sweep_duration_seconds", Help: "How long each sweep took.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 8),
		}),
	}
	reg.MustRegister(m.SignIns, m.SignOuts, m.Revocations, m.Expired, m.Swept, m.SweepErrors, m.SweepTime)
	return m
}

// Events returns the hooks for session.Config.Events that feed m.
func (m *Metrics) Events() session.Events {
	return session.Events{
		SignIn:  func(context.Context, session.Event) { m.SignIns.Inc() },
		SignOut: func(context.Context, session.Event) { m.SignOuts.Inc() },
		Revoke: func(_ context.Context, e session.Event) {
			scope := "session"
			if e.Handle == "" {
				scope = "user"
			}
			m.Revocations.WithLabelValues(scope).Add(float64(e.Count))
		},
		Expire: func(context.Context, session.Event) { m.Expired.Inc() },
		Sweep: func(_ context.Context, e session.SweepEvent) {
			m.Swept.Add(float64(e.Deleted))
			m.SweepTime.Observe(e.Took.Seconds())
			if e.Err != nil {
				m.SweepErrors.Inc()
			}
		},
	}
}
