package geo

import (
	"errors"
	"fmt"
	"strings"

	"github.com/courierhq/courier"
	"github.com/redis/go-redis/v9"
)

// errTrackingDown is what callers of the tracker see while Redis does not
// answer: EUNAVAILABLE (503), so phones keep their pings and retry, and the
// console says live positions are away; nothing else of courierd needs Redis.
var errTrackingDown = &courier.Error{Code: courier.EUNAVAILABLE, Details: map[string]any{"dependency": "redis"},
	Message: "live tracking is unavailable right now; try again shortly"}

// redisErr wraps the error of a Redis call with what was being done; an
// error saying Redis cannot be reached also carries errTrackingDown, and
// the cause stays in the chain for the log.
func redisErr(err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	if redisDown(err) {
		return fmt.Errorf("%s: %w: %w", what, errTrackingDown, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// redisDown reports whether err says Redis cannot serve now (no connection,
// a timeout, a full pool, a server loading its data or without a master), as
// opposed to a reply that refuses the command (a bug of ours).
func redisDown(err error) bool {
	var reply redis.Error
	if !errors.As(err, &reply) {
		return true
	}
	for _, p := range []string{"LOADING", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "READONLY", "BUSY "} {
		if strings.HasPrefix(reply.Error(), p) {
			return true
		}
	}
	return false
}
