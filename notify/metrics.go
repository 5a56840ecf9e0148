package notify

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts the worker's tries by channel and outcome, for /metrics.
type Metrics struct {
	tries    *prometheus.CounterVec
	duration *prometheus.HistogramVec
	expanded *prometheus.CounterVec
}

// NewMetrics registers the notification metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		tries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "courierd_notification_tries_total",
			Help: "Tries of push and webhook deliveries by channel and outcome (sent, pending = will retry, failed, dropped)."},
			[]string{"channel", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "courierd_notification_try_duration_seconds",
			Help: "Duration of one push or webhook request by channel.", Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}},
			[]string{"channel"}),
		expanded: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "courierd_outbox_messages_total",
			Help: "Outbox messages handled by topic and outcome (expanded, retry, failed)."}, []string{"topic", "outcome"}),
	}
	reg.MustRegister(m.tries, m.duration, m.expanded)
	return m
}

func (m *Metrics) try(channel, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	m.tries.WithLabelValues(channel, outcome).Inc()
	m.duration.WithLabelValues(channel).Observe(d.Seconds())
}

func (m *Metrics) message(topic, outcome string) {
	if m == nil {
		return
	}
	m.expanded.WithLabelValues(topic, outcome).Inc()
}

// SetMetrics installs metrics; call it before starting workers.
func (s *Service) SetMetrics(m *Metrics) { s.metrics = m }
