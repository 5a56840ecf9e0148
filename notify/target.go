package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/courierhq/courier"
)

// TargetPolicy says which addresses webhooks may reach. Loopback,
// link-local (the cloud metadata service at 169.254.169.254 among them),
// private, shared (carrier-grade NAT), unspecified and multicast addresses
// are refused unless a prefix of Allowed holds them: an admin's webhook must
// not become a scanner of the servers' own network. The zero policy allows
// public addresses only.
type TargetPolicy struct {
	Allowed []netip.Prefix // internal networks webhooks may reach anyway, e.g. 10.1.2.0/24
}

// ParseTargetPolicy reads a comma-separated list of addresses and CIDRs
// (COURIER_WEBHOOK_ALLOWED_NETS). Returns EINVALID naming the bad entry.
func ParseTargetPolicy(list string) (TargetPolicy, error) {
	var p TargetPolicy
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		pre, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return p, courier.Errorf(courier.EINVALID, "%q is neither an address nor a CIDR", f)
			}
			pre = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		p.Allowed = append(p.Allowed, pre.Masked())
	}
	return p, nil
}

// special are the ranges netip has no predicate for: "this network", shared
// address space (RFC 6598), IETF protocol assignments, benchmarking, and the
// IPv4 broadcast address.
var special = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("255.255.255.255/32"),
}

// blocked returns why a is refused ("" when it is allowed).
func (p TargetPolicy) blocked(a netip.Addr) string {
	a = a.Unmap()
	for _, pre := range p.Allowed {
		if pre.Contains(a) {
			return ""
		}
	}
	switch {
	case a.IsLoopback():
		return "a loopback address"
	case a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast():
		return "a link-local address"
	case a.IsPrivate():
		return "a private address"
	case a.IsUnspecified():
		return "an unspecified address"
	case a.IsMulticast(), a.IsInterfaceLocalMulticast():
		return "a multicast address"
	}
	for _, pre := range special {
		if pre.Contains(a) {
			return "a reserved address"
		}
	}
	return ""
}

// CheckURL refuses a webhook URL whose host is an address (or localhost)
// the policy does not allow. Names are checked again, after DNS, when the
// connection is made (Dialer). Returns EINVALID.
func (p TargetPolicy) CheckURL(host string) error {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		host = "127.0.0.1"
	}
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return nil // a name: checked at connect time
	}
	if why := p.blocked(a); why != "" {
		return courier.FieldError("url", "must not point at %s (%s); COURIER_WEBHOOK_ALLOWED_NETS allows internal networks", why, a.Unmap())
	}
	return nil
}

// errTargetRefused is what a connection to a refused address fails with.
var errTargetRefused = errors.New("the target address is not allowed")

// Dialer returns a dialer that checks every address it connects to, after
// DNS resolution, so a name that resolves to a refused address (or starts
// to: DNS rebinding) is never reached.
func (p TargetPolicy) Dialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: %q is not an address", errTargetRefused, address)
			}
			if why := p.blocked(ap.Addr()); why != "" {
				return fmt.Errorf("%w: %s", errTargetRefused, why)
			}
			return nil
		}}
}

// reason is a short, fixed description of a failed send for the delivery
// log: never the endpoint's answer, and no more about the network than an
// operator needs (an admin must not learn which internal ports are open).
func reason(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, errTargetRefused):
		return "refused: the target address is not allowed (loopback, link-local or private)"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "the host name does not resolve"
	}
	if strings.Contains(err.Error(), "tls:") || strings.Contains(err.Error(), "x509:") {
		return "TLS handshake failed"
	}
	return "connection failed"
}
