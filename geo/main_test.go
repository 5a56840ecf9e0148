package geo

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/courierhq/courier/internal/testsvc"
	"github.com/redis/go-redis/v9"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testsvc.StopRedisCluster()
	os.Exit(code)
}

// TestFleetKeysOneSlot: every key of a fleet is on one Redis Cluster slot,
// and the test cluster does refuse a script over keys of two slots (so the
// redis-cluster runs of the other tests would catch one).
func TestFleetKeysOneSlot(t *testing.T) {
	addrs, err := testsvc.RedisCluster()
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	defer rdb.Close()
	ctx := context.Background()
	tr := NewTracker(rdb, nil, TrackerConfig{Fleet: "moscow"}, nil)
	keys := []string{tr.keyLive(), tr.keyLast(), tr.keyStats(), tr.keyHistory(7), tr.keyDetect(7)}
	want := rdb.ClusterKeySlot(ctx, keys[0]).Val()
	for _, k := range keys {
		if got := rdb.ClusterKeySlot(ctx, k).Val(); got != want {
			t.Errorf("%s is on slot %d, %s on %d", k, got, keys[0], want)
		}
	}
	err = rdb.Eval(ctx, "return redis.call('GET', KEYS[1]) or redis.call('GET', KEYS[2])", []string{"courier-a", "courier-b"}).Err()
	if err == nil || !strings.Contains(err.Error(), "CROSSSLOT") {
		t.Errorf("a script over two slots: %v, want CROSSSLOT", err)
	}
}
