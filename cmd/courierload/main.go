// Command courierload measures courierd under load, from this machine to
// this machine only: it creates couriers through the admin API, logs them
// in, puts them all on the map, gives some of them a day of stops, and then
// drives, phase by phase, for a fixed time each from N connections:
//
//	raw-geoadd     pipelines of 50 GEOADDs straight into the same Redis (no courierd)
//	raw-geosearch  the GEOSEARCH of nearby straight on the same Redis, over as many couriers
//	gps            POST /api/v1/courier/locations, batches of 50 pings, every courier in turn
//	gps-road       the same from the working couriers only: on shift with an active sheet, so
//	               each batch also reads the courier's plan and runs the detectors
//	nearby         GET /api/v1/couriers/nearby over every live courier (2 km, 10 nearest)
//	today          GET /api/v1/courier/today of the working couriers
//	sync           POST /api/v1/courier/sync, a stop (arrive, deliver) per batch, until every stop is reported
//	orders         GET /api/v1/orders, the dispatcher's list of the day (50 a page)
//	mix            all of them at once at the city's pace, courierd's memory sampled every 10 s
//
// For each it prints requests/s, items/s, p50/p99/max latency and errors,
// and the raw Redis figures beside them, so that each HTTP figure is also a
// ratio to what the machine gives. The machine and its load average are
// printed with every phase. With -cpu naming the processes (courierd,
// PostgreSQL with its backends, Redis), each phase also says the CPU time
// each spent, per request: what the capacity model is made of. scripts/load.sh builds and starts courierd
// (one or two replicas on PostgreSQL and a Redis of its own) and runs it.
//
//	courierload -targets http://127.0.0.1:8081,http://127.0.0.1:8082 -redis redis://127.0.0.1:6379/0 \
//	    -admin-login admin -admin-password secret -couriers 10000 -conns 16 -duration 20s
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// Bounds: the tool is for this machine, for minutes.
const (
	maxCouriers = 20000
	maxConns    = 256
	maxDuration = 10 * time.Minute
	maxMix      = 15 * time.Minute
)

type config struct {
	targets                   []string
	redisURL                  string
	adminLogin, adminPassword string
	metricsToken              string
	couriers, working, stops  int
	planSeconds               int
	conns, nearbyConns, batch int
	nearbyRate                float64
	timeline                  bool
	duration, mix             time.Duration
	mixPings                  int
	phases                    []string
	cpu                       []cpuGroup
}

var allPhases = []string{"raw-geoadd", "raw-geosearch", "gps", "gps-road", "nearby", "today", "sync", "orders", "mix"}

func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("courierload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	targets := fs.String("targets", "http://127.0.0.1:8080", "comma-separated base URLs of courierd replicas (loopback only); requests go round robin")
	fs.StringVar(&cfg.redisURL, "redis", getenv("REDIS_URL"), "the Redis courierd uses (loopback only), for the raw figures [$REDIS_URL]")
	fs.StringVar(&cfg.adminLogin, "admin-login", getenv("COURIER_ADMIN_LOGIN"), "an admin login of courierd [$COURIER_ADMIN_LOGIN]")
	fs.StringVar(&cfg.adminPassword, "admin-password", getenv("COURIER_ADMIN_PASSWORD"), "its password [$COURIER_ADMIN_PASSWORD]")
	fs.StringVar(&cfg.metricsToken, "metrics-token", getenv("COURIER_METRICS_TOKEN"), "courierd's metrics token, to sample its memory [$COURIER_METRICS_TOKEN]")
	fs.IntVar(&cfg.couriers, "couriers", 10000, fmt.Sprintf("couriers on the map (at most %d)", maxCouriers))
	fs.IntVar(&cfg.working, "working", 50, "couriers with a day of stops (today, sync)")
	fs.IntVar(&cfg.stops, "stops", 20, "stops per working courier")
	fs.IntVar(&cfg.planSeconds, "plan-seconds", 10, "time limit of the plan of the working couriers' day")
	fs.IntVar(&cfg.conns, "conns", 16, fmt.Sprintf("connections (concurrent requests) per phase (at most %d)", maxConns))
	fs.IntVar(&cfg.nearbyConns, "nearby-conns", 16, "connections of the nearby phase")
	fs.Float64Var(&cfg.nearbyRate, "nearby-rate", 0, "nearby requests per second over its connections (0: each connection sends the next as soon as it has the answer)")
	fs.BoolVar(&cfg.timeline, "timeline", false, "also print each phase's p99 and maximum second by second (where in the phase the tail is)")
	fs.IntVar(&cfg.batch, "batch", 50, "pings per GPS batch (and GEOADDs per raw pipeline)")
	fs.DurationVar(&cfg.duration, "duration", 20*time.Second, fmt.Sprintf("time of each phase (at most %v)", maxDuration))
	fs.DurationVar(&cfg.mix, "mix", 5*time.Minute, fmt.Sprintf("time of the mix phase (at most %v)", maxMix))
	fs.IntVar(&cfg.mixPings, "mix-pings", 2000, "GPS pings per second in the mix phase (10,000 couriers every 5 s: 2,000)")
	cpu := fs.String("cpu", "", `processes whose CPU time each phase reports, "name=pid[,pid...][+];..." (+: their children too, as PostgreSQL's backends); this tool is "self"`)
	phases := fs.String("phases", strings.Join(allPhases[:8], ","), "phases to run, in this order: "+strings.Join(allPhases, ","))
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	cfg.targets = splitList(*targets)
	cfg.phases = splitList(*phases)
	var err error
	if cfg.cpu, err = parseCPUGroups(*cpu); err != nil {
		return cfg, err
	}
	if len(cfg.cpu) > 0 {
		cfg.cpu = append(cfg.cpu, cpuGroup{name: "self", pids: []int{os.Getpid()}})
	}
	switch {
	case len(cfg.targets) == 0:
		return cfg, errors.New("-targets: name at least one courierd")
	case cfg.adminLogin == "" || cfg.adminPassword == "":
		return cfg, errors.New("-admin-login and -admin-password are required")
	case cfg.couriers < 1 || cfg.couriers > maxCouriers:
		return cfg, fmt.Errorf("-couriers must be within [1, %d]", maxCouriers)
	case cfg.conns < 1 || cfg.conns > maxConns || cfg.nearbyConns < 1 || cfg.nearbyConns > maxConns:
		return cfg, fmt.Errorf("-conns and -nearby-conns must be within [1, %d]", maxConns)
	case cfg.batch < 1 || cfg.batch > 1000:
		return cfg, errors.New("-batch must be within [1, 1000]")
	case cfg.duration <= 0 || cfg.duration > maxDuration:
		return cfg, fmt.Errorf("-duration must be within (0, %v]", maxDuration)
	case cfg.mix <= 0 || cfg.mix > maxMix:
		return cfg, fmt.Errorf("-mix must be within (0, %v]", maxMix)
	case cfg.working < 0 || cfg.working > cfg.couriers || cfg.stops < 1 || cfg.working*cfg.stops > 5000:
		return cfg, errors.New("-working must be within [0, -couriers], -stops at least 1, and -working x -stops at most 5000")
	case cfg.nearbyRate < 0 || cfg.nearbyRate > 100000:
		return cfg, errors.New("-nearby-rate must be within [0, 100000]")
	case cfg.mixPings < cfg.batch:
		return cfg, errors.New("-mix-pings must be at least -batch")
	}
	for _, p := range cfg.phases {
		if !slices.Contains(allPhases, p) {
			return cfg, fmt.Errorf("-phases: unknown phase %q (known: %s)", p, strings.Join(allPhases, ", "))
		}
	}
	for _, t := range cfg.targets {
		if err := loopbackOnly(t); err != nil {
			return cfg, err
		}
	}
	if cfg.redisURL != "" {
		opt, err := redis.ParseURL(cfg.redisURL)
		if err != nil {
			return cfg, fmt.Errorf("-redis: %w", err)
		}
		if err := loopbackOnly("redis://" + opt.Addr); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

func main() {
	cfg, err := parseConfig(os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "courierload:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "courierload:", err)
		os.Exit(1)
	}
}

// machine says what the figures were measured on.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%d CPUs (%s), %s", runtime.NumCPU(), model, runtime.Version())
}

// load is the load average (1, 5, 15 minutes).
func load() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func run(ctx context.Context, cfg config, out io.Writer) error {
	logf := func(format string, args ...any) {
		fmt.Fprintf(out, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}
	logf("courierload: %s; load average %s", machine(), load())
	logf("targets %s; %d couriers, %d working with %d stops; %d connections, batches of %d, %v a phase",
		strings.Join(cfg.targets, " "), cfg.couriers, cfg.working, cfg.stops, cfg.conns, cfg.batch, cfg.duration)
	c := newClient(cfg.targets, max(cfg.conns, cfg.nearbyConns)+8)

	var rdb *redis.Client
	if cfg.redisURL != "" {
		opt, _ := redis.ParseURL(cfg.redisURL)
		opt.PoolSize = max(cfg.conns, cfg.nearbyConns) + 2
		opt.Dialer = loopbackDialer().DialContext
		rdb = redis.NewClient(opt)
		defer rdb.Close()
		if err := rdb.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("redis: %w", err)
		}
		defer rdb.Del(context.Background(), rawKey)
	}

	w, err := setup(ctx, c, cfg, logf)
	if err != nil {
		return err
	}
	needDay := slices.Contains(cfg.phases, "today") || slices.Contains(cfg.phases, "sync") || slices.Contains(cfg.phases, "mix") ||
		slices.Contains(cfg.phases, "gps-road")
	if needDay {
		if err := prepareDay(ctx, c, w, cfg, logf); err != nil {
			return err
		}
	}
	start := time.Now()
	if err := goLive(ctx, c, w, cfg.conns); err != nil {
		return fmt.Errorf("first pings: %w", err)
	}
	logf("map: %d couriers live (%.1f s)", len(w.couriers), time.Since(start).Seconds())
	lastLive := time.Now()

	var results []summary
	phase := func(name string, conns int, dur time.Duration, rec *recorder, work func(context.Context, int, *mrand.Rand) bool) summary {
		logf("phase %s: %d connections, %v (load average %s)", name, conns, dur, load())
		pctx, cancel := context.WithTimeout(ctx, dur)
		before := sampleCPU(cfg.cpu)
		elapsed := drive(pctx, conns, work)
		cancel()
		s := rec.summary(elapsed)
		s.CPU = cpuLine(cpuBetween(cfg.cpu, before, sampleCPU(cfg.cpu)), s)
		if cfg.timeline {
			s.Timeline = rec.timeline(time.Second)
		}
		results = append(results, s)
		printTable(out, []summary{s})
		return s
	}
	var raw, rawSearch, gps, near *summary
	for _, p := range cfg.phases {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		switch p {
		case "raw-geoadd":
			if rdb == nil {
				logf("phase raw-geoadd skipped: no -redis")
				continue
			}
			rec := newRecorder(fmt.Sprintf("redis GEOADD x%d pipelined", cfg.batch), "pings")
			s := phase("raw-geoadd", cfg.conns, cfg.duration, rec, rawGeoadd(rdb, cfg.couriers, cfg.batch, rec))
			raw = &s
		case "raw-geosearch":
			if rdb == nil {
				logf("phase raw-geosearch skipped: no -redis")
				continue
			}
			if err := rawFill(ctx, rdb, cfg.couriers); err != nil {
				return err
			}
			rec := newRecorder("redis GEOSEARCH 2 km", "couriers")
			s := phase("raw-geosearch", cfg.nearbyConns, cfg.duration, rec, rawGeosearch(rdb, rec))
			rawSearch = &s
		case "gps":
			rec := newRecorder("POST courier/locations", "pings")
			s := phase("gps", cfg.conns, cfg.duration, rec, gpsWork(c, w.couriers, cfg.batch, rec))
			gps = &s
			lastLive = time.Now()
		case "gps-road":
			if len(w.working) == 0 {
				logf("phase gps-road skipped: no -working couriers")
				continue
			}
			rec := newRecorder("POST locations on the road", "pings")
			phase("gps-road", cfg.conns, cfg.duration, rec, gpsWork(c, w.working, cfg.batch, rec))
		case "nearby":
			if time.Since(lastLive) > 2*time.Minute {
				if err := goLive(ctx, c, w, cfg.conns); err != nil {
					return err
				}
				lastLive = time.Now()
			}
			name, work := "GET couriers/nearby", nearbyWork
			if cfg.nearbyRate > 0 {
				name = fmt.Sprintf("GET couriers/nearby %.0f/s", cfg.nearbyRate)
			}
			rec := newRecorder(name, "couriers")
			s := phase("nearby", cfg.nearbyConns, cfg.duration, rec, paced(cfg.nearbyRate, work(c, w, rec)))
			near = &s
		case "today":
			rec := newRecorder("GET courier/today", "stops")
			phase("today", cfg.conns, cfg.duration, rec, todayWork(c, w, rec))
		case "sync":
			rec := newRecorder("POST courier/sync", "events")
			phase("sync", cfg.conns, cfg.duration, rec, syncWork(c, w, rec))
		case "orders":
			rec := newRecorder("GET orders", "orders")
			phase("orders", cfg.conns, cfg.duration, rec, ordersWork(c, w, rec))
		case "mix":
			if err := mix(ctx, out, c, w, cfg, logf, &results); err != nil {
				return err
			}
		}
	}

	fmt.Fprintf(out, "\nSummary (%s; load average at the end %s):\n", machine(), load())
	printTable(out, results)
	if raw != nil && gps != nil && raw.ItemsPerS() > 0 {
		fmt.Fprintf(out, "GPS ingest through HTTP: %.0f pings/s = %.1f%% of pipelined GEOADD (%.0f pings/s) on the same Redis; p99 %s ms; %d errors\n",
			gps.ItemsPerS(), 100*gps.ItemsPerS()/raw.ItemsPerS(), raw.ItemsPerS(), ms(gps.P99), gps.Errors)
	}
	if near != nil {
		pace := "as fast as they go"
		if cfg.nearbyRate > 0 {
			pace = fmt.Sprintf("paced at %.0f requests/s", cfg.nearbyRate)
		}
		p99 := ms(near.P99) + " ms"
		if near.Stamped > 0 {
			p99 += fmt.Sprintf(" to the answers' arrival (%s ms to when the tool read them)", ms(near.ReadP99))
		}
		line := fmt.Sprintf("nearby over %d live couriers at %d connections (%s): p99 %s, %.0f requests/s, %.1f couriers an answer",
			len(w.couriers), cfg.nearbyConns, pace, p99, near.ReqPerS(), float64(near.Items)/float64(max(near.Requests, 1)))
		if rawSearch != nil {
			line += fmt.Sprintf("; raw GEOSEARCH p99 %s ms (to when read), %.0f/s", ms(rawSearch.P99), rawSearch.ReqPerS())
		}
		fmt.Fprintln(out, line)
	}
	failed := int64(0)
	for _, r := range results {
		failed += r.Errors
	}
	if failed > 0 {
		return fmt.Errorf("%d requests failed (see the errors under each endpoint)", failed)
	}
	return nil
}

// mix runs every endpoint at once for cfg.mix: GPS at cfg.mixPings pings/s
// (the city's pace), nearby, today, orders and sync closed-loop on two
// connections each, and samples every replica's memory every 10 s.
func mix(ctx context.Context, out io.Writer, c *client, w *world, cfg config, logf func(string, ...any), results *[]summary) error {
	if cfg.metricsToken == "" {
		logf("phase mix: no -metrics-token, courierd's memory is not sampled")
	}
	logf("phase mix: %v, GPS at %d pings/s, nearby/today/orders/sync on 2 connections each (load average %s)", cfg.mix, cfg.mixPings, load())
	mctx, cancel := context.WithTimeout(ctx, cfg.mix)
	defer cancel()
	recs := []*recorder{newRecorder("mix POST courier/locations", "pings"), newRecorder("mix GET couriers/nearby", "couriers"),
		newRecorder("mix GET courier/today", "stops"), newRecorder("mix GET orders", "orders"), newRecorder("mix POST courier/sync", "events")}
	start := time.Now()
	cpuBefore := sampleCPU(cfg.cpu)
	var wg sync.WaitGroup
	// GPS at a fixed pace: a ticket per batch.
	tickets := make(chan struct{}, cfg.conns)
	wg.Go(func() {
		every := time.Duration(float64(time.Second) * float64(cfg.batch) / float64(cfg.mixPings))
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-mctx.Done():
				return
			case <-t.C:
				select {
				case tickets <- struct{}{}:
				default: // behind: the closed loop below is the limit
				}
			}
		}
	})
	gpsW := gpsWork(c, w.couriers, cfg.batch, recs[0])
	wg.Go(func() {
		drive(mctx, cfg.conns, func(ctx context.Context, i int, rng *mrand.Rand) bool {
			select {
			case <-ctx.Done():
				return false
			case <-tickets:
			}
			return gpsW(ctx, i, rng)
		})
	})
	works := []func(context.Context, int, *mrand.Rand) bool{nearbyWork(c, w, recs[1]), todayWork(c, w, recs[2]), ordersWork(c, w, recs[3])}
	if len(w.working) > 0 {
		works = append(works, syncWork(c, w, recs[4]))
	}
	for _, work := range works {
		wg.Go(func() { drive(mctx, 2, work) })
	}
	// Memory, every 10 s, per replica.
	type sample struct {
		at  time.Duration
		mem []memory
	}
	var samples []sample
	if cfg.metricsToken != "" {
		wg.Go(func() {
			t := time.NewTicker(10 * time.Second)
			defer t.Stop()
			for {
				s := sample{at: time.Since(start).Round(time.Second)}
				var line []string
				for _, target := range cfg.targets {
					m, err := sampleMemory(context.Background(), c, target, cfg.metricsToken)
					if err != nil {
						logf("memory of %s: %v", target, err)
					}
					s.mem = append(s.mem, m)
					line = append(line, fmt.Sprintf("%s RSS %.1f MB heap %.1f MB goroutines %.0f", target, m.RSS/1e6, m.HeapInuse/1e6, m.Goroutines))
				}
				samples = append(samples, s)
				logf("mix %v: %s (load average %s)", s.at, strings.Join(line, "; "), load())
				select {
				case <-mctx.Done():
					return
				case <-t.C:
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	var sums []summary
	for _, r := range recs {
		if s := r.summary(elapsed); s.Requests > 0 {
			sums = append(sums, s)
		}
	}
	*results = append(*results, sums...)
	printTable(out, sums)
	if len(cfg.cpu) > 0 {
		all := summary{Elapsed: elapsed}
		for _, s := range sums {
			all.Requests += s.Requests
		}
		fmt.Fprintf(out, "mix, every endpoint together (%d requests):\n%s\n", all.Requests, cpuLine(cpuBetween(cfg.cpu, cpuBefore, sampleCPU(cfg.cpu)), all))
	}
	// Memory after the first minute: the sample at 1 min against the largest and the last after it.
	for ri, target := range cfg.targets {
		var at1 *memory
		var peak, last memory
		for _, s := range samples {
			m := s.mem[ri]
			if s.at >= time.Minute && at1 == nil {
				mm := m
				at1 = &mm
			}
			if at1 != nil {
				peak.RSS, peak.HeapInuse = max(peak.RSS, m.RSS), max(peak.HeapInuse, m.HeapInuse)
				last = m
			}
		}
		if at1 == nil || at1.RSS == 0 {
			continue
		}
		logf("memory of %s after the first minute: RSS %.1f MB at 1 min, at most %.1f MB, %.1f MB at the end (%+.1f%%); heap in use %.1f / %.1f / %.1f MB (%+.1f%%)",
			target, at1.RSS/1e6, peak.RSS/1e6, last.RSS/1e6, 100*(last.RSS-at1.RSS)/at1.RSS,
			at1.HeapInuse/1e6, peak.HeapInuse/1e6, last.HeapInuse/1e6, 100*(last.HeapInuse-at1.HeapInuse)/at1.HeapInuse)
	}
	return nil
}
