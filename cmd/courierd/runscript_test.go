package main

import (
	"bufio"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRunScriptSaysTheFirstBuildIsSlow runs scripts/run.sh as on a fresh
// machine (an empty build cache) and checks that it says, before compiling,
// that the first build takes minutes, then shows a counter of the packages it
// compiles. It stops the script at the first counted package.
func TestRunScriptSaysTheFirstBuildIsSlow(t *testing.T) {
	cmd := exec.Command("bash", "../../scripts/run.sh", "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "GOCACHE="+t.TempDir())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the script, go build and the compilers it started
		for range lines {
		}
		_ = cmd.Wait()
	}()
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	counter := regexp.MustCompile(`^run\.sh: compiling \[(\d+)/(\d+)\] \S+$`)
	warned := false
	timeout := time.After(3 * time.Minute)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("run.sh ended before showing build progress (warned: %v)", warned)
			}
			t.Log(line)
			if strings.Contains(line, "takes several minutes") {
				warned = true
			}
			if m := counter.FindStringSubmatch(line); m != nil {
				if !warned {
					t.Fatal("run.sh compiled before saying that the first build takes minutes")
				}
				n, _ := strconv.Atoi(m[1])
				total, _ := strconv.Atoi(m[2])
				if n != 1 || total < 100 {
					t.Fatalf("first counter %d/%d: want 1 of at least 100 packages", n, total)
				}
				return
			}
			if strings.Contains(line, "courierd listening") {
				t.Fatal("courierd started without any build progress shown")
			}
		case <-timeout:
			t.Fatalf("no build progress within 3 minutes (warned: %v)", warned)
		}
	}
}
