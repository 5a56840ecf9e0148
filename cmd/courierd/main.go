// Command courierd is the courier platform's server: the JSON API for the
// phone app, the dispatcher and cashier console, and the route optimizer.
//
//	go run ./cmd/courierd --demo     # embedded SQLite + miniredis + demo city
//	courierd healthcheck [URL]       # exit 0 when the local courierd is ready (container healthchecks)
//
// Configuration comes from flags and environment variables; see -help.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "healthcheck" {
		os.Exit(healthcheck(os.Args[2:], os.Getenv, os.Stdout))
	}
	cfg, err := ParseConfig(os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	} else if err != nil {
		fmt.Fprintln(os.Stderr, "courierd:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "courierd:", err)
		os.Exit(1)
	}
}
