package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/pprof" // its init also registers on http.DefaultServeMux, which we never serve
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"hotline/internal/hotline"
	"hotline/internal/scheduler"
)

// The metrics are coarse and content-free on purpose. Labels are only a
// channel or a kind of failure: never a school (a school's small counts
// could single out a reporter), a case, a receipt, a chat or any text.
var (
	metricReports = prometheus.NewDesc("hotline_reports_total",
		"Reports filed since start, by channel.", []string{"channel"}, nil)
	metricOutboxLen = prometheus.NewDesc("hotline_outbox_replies",
		"Counselors' replies waiting in the outbox for Telegram.", nil, nil)
	metricOutboxAge = prometheus.NewDesc("hotline_outbox_oldest_age_seconds",
		"Age of the oldest reply waiting in the outbox; 0 when it is empty.", nil, nil)
	metricRelayDelivered = prometheus.NewDesc("hotline_relay_delivered_total",
		"Replies delivered to Telegram since start.", nil, nil)
	metricRelayFailures = prometheus.NewDesc("hotline_relay_failures_total",
		"Failed or deferred reply deliveries since start, by kind: blocked, rejected, retry_after, server, network.", []string{"kind"}, nil)
	metricCommits = prometheus.NewDesc("hotline_store_commits_total",
		"Database write transactions committed (group commits).", nil, nil)
	metricJobs = prometheus.NewDesc("hotline_store_jobs_total",
		"Write jobs committed; jobs over commits is the mean commit batch size.", nil, nil)
	metricWSConns = prometheus.NewDesc("hotline_webchat_connections",
		"Open web chat websocket connections.", nil, nil)
	metricWSSessions = prometheus.NewDesc("hotline_webchat_sessions",
		"Web chat sessions held for resumption.", nil, nil)
	metricBotQueue = prometheus.NewDesc("hotline_bot_queued_updates",
		"Telegram updates waiting for a handler.", nil, nil)
	metricBotHandled = prometheus.NewDesc("hotline_bot_handled_updates_total",
		"Telegram updates handled since start.", nil, nil)
	metricBotPanics = prometheus.NewDesc("hotline_bot_panics_total",
		"Telegram update handlers that panicked (and were recovered) since start.", nil, nil)
	metricKDFWaiting = prometheus.NewDesc("hotline_kdf_waiting",
		"Log-ins waiting for an argon2id slot.", nil, nil)
	metricKDFInFlight = prometheus.NewDesc("hotline_kdf_in_flight",
		"Argon2id derivations running.", nil, nil)
	metricKDFTotal = prometheus.NewDesc("hotline_kdf_derivations_total",
		"Argon2id derivations completed since start.", nil, nil)
	metricSchedPasses = prometheus.NewDesc("hotline_scheduler_passes_total",
		"Scheduler passes (deadlines, paging, retention, alerts) since start.", nil, nil)
	metricSchedFailed = prometheus.NewDesc("hotline_scheduler_failed_passes_total",
		"Scheduler passes with an error since start.", nil, nil)
	metricSchedLag = prometheus.NewDesc("hotline_scheduler_lag_seconds",
		"Time since the last scheduler pass ended; above the interval (30s) the scheduler is late or stuck.", nil, nil)
	metricSchedPass = prometheus.NewDesc("hotline_scheduler_last_pass_seconds",
		"How long the last scheduler pass took.", nil, nil)
	metricDeadlineMisses = prometheus.NewDesc("hotline_deadline_misses_total",
		"Case deadlines recorded as missed since start.", nil, nil)
	metricAlerts = prometheus.NewDesc("hotline_alerts_total",
		"Alerts sent since start, by channel kind and result: sent, failed (may pass), refused (for good), unconfigured.", []string{"kind", "result"}, nil)
	metricFirstAlert = prometheus.NewDesc("hotline_urgent_first_alert_seconds",
		"Time from an urgent report to the first alert of its ladder a vendor accepted (on the node that sent it).", nil, nil)
	metricAckTime = prometheus.NewDesc("hotline_urgent_ack_seconds",
		"Time from an urgent report to its acknowledgement, for reports whose ladder ran.", nil, nil)
)

// collector reads the running parts' counters at each scrape: the parts
// keep plain counters and know nothing of Prometheus.
type collector struct{ m *Main }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		metricReports, metricOutboxLen, metricOutboxAge, metricRelayDelivered, metricRelayFailures,
		metricCommits, metricJobs, metricWSConns, metricWSSessions,
		metricBotQueue, metricBotHandled, metricBotPanics,
		metricKDFWaiting, metricKDFInFlight, metricKDFTotal,
		metricSchedPasses, metricSchedFailed, metricSchedLag, metricSchedPass, metricDeadlineMisses,
		metricAlerts, metricFirstAlert, metricAckTime,
	} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	m := c.m
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}

	reports := m.Intake.Stats().Reports
	for _, channel := range hotline.Channels {
		counter(metricReports, float64(reports[channel]), string(channel))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if ob, err := m.DB.OutboxStats(ctx); err != nil {
		ch <- prometheus.NewInvalidMetric(metricOutboxLen, err)
	} else {
		gauge(metricOutboxLen, float64(ob.Len))
		age := 0.0
		if !ob.Oldest.IsZero() {
			age = max(0, m.DB.Clock.Now().Sub(ob.Oldest).Seconds())
		}
		gauge(metricOutboxAge, age)
	}
	if len(m.senders) > 0 { // the relay runs
		rs := m.Relay.Stats()
		counter(metricRelayDelivered, float64(rs.Delivered))
		for kind, n := range map[string]int64{
			"blocked": rs.Blocked, "rejected": rs.Rejected, "retry_after": rs.RetryAfter,
			"server": rs.Server, "network": rs.Network,
		} {
			counter(metricRelayFailures, float64(n), kind)
		}
	}

	st := m.DB.Stats()
	counter(metricCommits, float64(st.Commits))
	counter(metricJobs, float64(st.Jobs))

	conns, sessions := m.Webchat.Stats()
	gauge(metricWSConns, float64(conns))
	gauge(metricWSSessions, float64(sessions))

	if m.Bot != nil {
		gauge(metricBotQueue, float64(m.Bot.QueueLen()))
		counter(metricBotHandled, float64(m.Bot.Handled()))
		counter(metricBotPanics, float64(m.Bot.Panics()))
	}

	kdf := m.Vault.KDFStats()
	gauge(metricKDFWaiting, float64(kdf.Waiting))
	gauge(metricKDFInFlight, float64(kdf.InFlight))
	counter(metricKDFTotal, float64(kdf.Total))

	ss := m.Scheduler.Stats()
	counter(metricSchedPasses, float64(ss.Passes))
	counter(metricSchedFailed, float64(ss.FailedPasses))
	if !ss.LastPassEnd.IsZero() {
		gauge(metricSchedLag, time.Since(ss.LastPassEnd).Seconds())
		gauge(metricSchedPass, ss.LastPass.Seconds())
	}
	counter(metricDeadlineMisses, float64(ss.DeadlineMisses))

	as := m.Scheduler.AlertStats()
	for kind, results := range as.Sends {
		for result, n := range results {
			counter(metricAlerts, float64(n), string(kind), result)
		}
	}
	for d, h := range map[*prometheus.Desc]scheduler.Histogram{metricFirstAlert: as.FirstAlert, metricAckTime: as.Ack} {
		ch <- prometheus.MustNewConstHistogram(d, h.Count, h.Sum, h.Buckets)
	}
}

// openMetrics serves /metrics and the profiler (/debug/pprof/) on their
// own listener, never on the public one: they are for the operator.
func (m *Main) openMetrics() error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collector{m},
	)
	mux := http.NewServeMux()
	// One failing metric (the outbox query) does not hide the others.
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	// pprof.Cmdline is left out: the command line may hold a bot token.
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)

	ln, err := net.Listen("tcp", m.Config.MetricsAddr)
	if err != nil {
		return err
	}
	m.metricsLn = ln
	m.metrics = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          discardErrorLog(),
	}
	m.Go(func(ctx context.Context) {
		if err := m.metrics.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Error("metrics server stopped", "err", err)
		}
	})
	m.Logger.Info("serving metrics", "addr", ln.Addr().String())
	return nil
}

// MetricsAddr returns the address of the metrics listener, or "" when off.
func (m *Main) MetricsAddr() string {
	if m.metricsLn == nil {
		return ""
	}
	return m.metricsLn.Addr().String()
}
