package testsvc

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// A Redis Cluster of three masters on loopback, for the tests that check
// that every multi-key script and transaction stays on one slot (a Cluster
// refuses the others with CROSSSLOT). It is started once per test binary, on
// first use, and stopped by StopRedisCluster (the package's TestMain).
var cluster struct {
	once  sync.Once
	addrs []string
	cmds  []*exec.Cmd
	dir   string
	err   error
}

// RedisCluster returns the addresses of the test binary's Redis Cluster,
// starting it on first use (redis-server and redis-cli must be on PATH, as
// scripts/test.sh installs them).
func RedisCluster() ([]string, error) {
	cluster.once.Do(func() { cluster.err = startCluster() })
	return cluster.addrs, cluster.err
}

func startCluster() error {
	for _, bin := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Errorf("%s is not installed: run the tests with scripts/test.sh, which installs it", bin)
		}
	}
	dir, err := os.MkdirTemp("", "courier-redis-cluster-")
	if err != nil {
		return err
	}
	cluster.dir = dir
	for i := range 3 {
		// A port for the node and one for its cluster bus (by default the
		// node's + 10000, a port nobody checked: another test's server
		// restarting on its own port could find it taken).
		ports, err := freePorts(2)
		if err != nil {
			return err
		}
		port, bus := ports[0], ports[1]
		nd := filepath.Join(dir, strconv.Itoa(i))
		if err := os.MkdirAll(nd, 0o755); err != nil {
			return err
		}
		cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", nd, "--logfile", filepath.Join(nd, "log"), "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "5000", "--cluster-port", strconv.Itoa(bus))
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("start redis-server: %w", err)
		}
		cluster.cmds = append(cluster.cmds, cmd)
		cluster.addrs = append(cluster.addrs, "127.0.0.1:"+strconv.Itoa(port))
	}
	for _, a := range cluster.addrs {
		if err := waitDial(a); err != nil {
			return err
		}
	}
	args := append([]string{"--cluster", "create"}, cluster.addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("redis-cli --cluster create: %v\n%s", err, out)
	}
	// Ready when every node says the cluster is ok and the client sees every slot.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, a := range cluster.addrs {
		c := redis.NewClient(&redis.Options{Addr: a})
		for {
			info, err := c.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			if ctx.Err() != nil {
				c.Close()
				return fmt.Errorf("redis cluster node %s is not ok: %v %q", a, err, info)
			}
			time.Sleep(100 * time.Millisecond)
		}
		c.Close()
	}
	return nil
}

// freePorts returns n loopback ports that were free a moment ago, all
// different (held open together while chosen).
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func waitDial(addr string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server at %s does not accept connections: %w", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// StopRedisCluster stops the cluster if it was started.
func StopRedisCluster() {
	for _, c := range cluster.cmds {
		_ = c.Process.Kill()
		_ = c.Wait()
	}
	cluster.cmds = nil
	if cluster.dir != "" {
		os.RemoveAll(cluster.dir)
	}
}
