package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

// CPU accounting: the CPU time that each process of the setup (courierd,
// PostgreSQL, Redis, this tool) spent in a phase, read from /proc, so that
// a phase's figures say what one request costs each of them, which is what
// the capacity model needs and what the load of a shared machine disturbs
// least.

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat
// (100 on every Linux this runs on).
const clockTicks = 100

// cpuGroup is a named set of processes: pids, and with children the
// children of each too (PostgreSQL's backends are its postmaster's).
type cpuGroup struct {
	name     string
	pids     []int
	children bool
}

// parseCPUGroups reads -cpu: "name=pid[,pid...][+]" groups separated by
// ";", a trailing + counting the children of the pids as well, e.g.
// "courierd=41,42;postgres=17+;redis=20". "self" is this process.
func parseCPUGroups(s string) ([]cpuGroup, error) {
	var out []cpuGroup
	for part := range strings.SplitSeq(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, list, ok := strings.Cut(part, "=")
		if !ok || name == "" || list == "" {
			return nil, fmt.Errorf("-cpu: %q is not name=pid[,pid...][+]", part)
		}
		g := cpuGroup{name: name}
		list, g.children = strings.CutSuffix(list, "+")
		for p := range strings.SplitSeq(list, ",") {
			pid, err := strconv.Atoi(strings.TrimSpace(p))
			if err != nil || pid <= 0 {
				return nil, fmt.Errorf("-cpu: %q: %q is not a process id", part, p)
			}
			g.pids = append(g.pids, pid)
		}
		out = append(out, g)
	}
	return out, nil
}

// procStat returns a process's parent and its user+system CPU time in ticks.
func procStat(pid int) (ppid int, ticks int64, err error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// After the name: state(3) ppid(4) ... utime(14) stime(15).
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ppid, _ = strconv.Atoi(f[1])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return ppid, ut + st, nil
}

// cpuSample is the CPU time of each process of each group, in ticks.
type cpuSample map[string]map[int]int64

// sampleCPU reads the groups' CPU times now. Processes gone are left out.
func sampleCPU(groups []cpuGroup) cpuSample {
	s := cpuSample{}
	var parents map[int][]int
	for _, g := range groups {
		m := s[g.name]
		if m == nil {
			m = map[int]int64{}
			s[g.name] = m
		}
		pids := slices.Clone(g.pids)
		if g.children {
			if parents == nil {
				parents = childrenOf()
			}
			for _, p := range g.pids {
				pids = append(pids, parents[p]...)
			}
		}
		for _, p := range pids {
			if _, t, err := procStat(p); err == nil {
				m[p] = t
			}
		}
	}
	return s
}

// childrenOf maps each process to its children.
func childrenOf() map[int][]int {
	out := map[int][]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, _, err := procStat(pid); err == nil {
			out[ppid] = append(out[ppid], pid)
		}
	}
	return out
}

// cpuUse is the CPU seconds each group spent between two samples (a process
// that started in between counts from zero; one that ended is not counted).
type cpuUse struct {
	Name    string
	Seconds float64
}

func cpuBetween(groups []cpuGroup, a, b cpuSample) []cpuUse {
	var out []cpuUse
	seen := map[string]bool{}
	for _, g := range groups {
		if seen[g.name] {
			continue
		}
		seen[g.name] = true
		var ticks int64
		for pid, t := range b[g.name] {
			ticks += t - a[g.name][pid]
		}
		out = append(out, cpuUse{Name: g.name, Seconds: float64(ticks) / clockTicks})
	}
	return out
}

// cpuLine says what the groups spent: CPU seconds, share of one core over
// the phase, and milliseconds of CPU per request.
func cpuLine(use []cpuUse, s summary) string {
	if len(use) == 0 {
		return ""
	}
	parts := make([]string, 0, len(use)+1)
	var total float64
	for _, u := range use {
		total += u.Seconds
		parts = append(parts, fmt.Sprintf("%s %.1f s (%.0f%% of a core, %.3f ms/request)", u.Name, u.Seconds,
			100*u.Seconds/s.Elapsed.Seconds(), 1000*u.Seconds/float64(max(s.Requests, 1))))
	}
	parts = append(parts, fmt.Sprintf("all %.1f s of %.1f s x %d cores", total, s.Elapsed.Seconds(), runtime.NumCPU()))
	return "    CPU: " + strings.Join(parts, "; ")
}
