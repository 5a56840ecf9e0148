package throttle

import (
	"os"
	"testing"

	"github.com/courierhq/courier/internal/testsvc"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testsvc.StopRedisCluster()
	os.Exit(code)
}
