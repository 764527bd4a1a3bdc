package edge

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Proxies are the reverse proxies whose forwarding headers are believed. A request from any
// other address is taken at its word: its own address is the client, and X-Forwarded-For,
// Forwarded and X-Forwarded-Proto are ignored, so that a client cannot choose its address.
type Proxies struct {
	nets []netip.Prefix
}

// ParseNetworks reads CIDR prefixes (10.0.0.0/8, ::1/128); a bare address is its own /32 or
// /128. The error names the entry that is not one.
func ParseNetworks(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("%q is not an address or a CIDR prefix such as 10.0.0.0/8", s)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR prefix such as 10.0.0.0/8", s)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// NewProxies trusts the given networks.
func NewProxies(nets []netip.Prefix) Proxies { return Proxies{nets: nets} }

func contains(nets []netip.Prefix, a netip.Addr) bool {
	a = a.Unmap()
	for _, n := range nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

func (p Proxies) trusted(a netip.Addr) bool { return a.IsValid() && contains(p.nets, a) }

// peer is the address of the connection's other end.
func peer(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, _ := netip.ParseAddr(strings.Trim(host, "[]"))
	return a.Unmap()
}

// Client works out who sent r and over which scheme. When the connection comes from a trusted
// proxy, the client is the right-most address of the forwarding chain that is not itself a
// trusted proxy (the left-most when all of them are), and the scheme is the proxy's
// X-Forwarded-Proto (or Forwarded proto=); otherwise the client is the connection's peer and
// the scheme is https exactly when the connection is TLS.
func (p Proxies) Client(r *http.Request) (addr netip.Addr, scheme string) {
	addr, scheme = peer(r), "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if !p.trusted(addr) {
		return addr, scheme
	}
	chain, proto := forwarded(r.Header)
	for i := len(chain) - 1; i >= 0; i-- {
		a := chain[i]
		addr = a
		if !p.trusted(a) {
			break
		}
	}
	if proto == "https" || proto == "http" {
		scheme = proto
	}
	return addr, scheme
}

// forwarded reads the forwarding chain, oldest first, from Forwarded (RFC 7239) when present,
// else from X-Forwarded-For; entries that are not addresses (obfuscated or "unknown") end the
// chain there, as nothing to their left can be checked.
func forwarded(h http.Header) (chain []netip.Addr, proto string) {
	var hops []string
	if fw := h.Values("Forwarded"); len(fw) > 0 {
		for _, line := range fw {
			for _, elem := range strings.Split(line, ",") {
				for _, pair := range strings.Split(elem, ";") {
					k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
					if !ok {
						continue
					}
					v = strings.Trim(strings.TrimSpace(v), `"`)
					switch strings.ToLower(k) {
					case "for":
						hops = append(hops, v)
					case "proto":
						proto = strings.ToLower(v)
					}
				}
			}
		}
	} else {
		for _, line := range h.Values("X-Forwarded-For") {
			for _, hop := range strings.Split(line, ",") {
				hops = append(hops, strings.TrimSpace(hop))
			}
		}
		if v := h.Values("X-Forwarded-Proto"); len(v) > 0 {
			// The last proxy's word: the right-most value.
			parts := strings.Split(v[len(v)-1], ",")
			proto = strings.ToLower(strings.TrimSpace(parts[len(parts)-1]))
		}
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := hopAddr(hops[i])
		if !ok {
			break
		}
		chain = append(chain, a)
	}
	// chain was gathered right to left; put it oldest first.
	for i, j := 0, len(chain)-1; i < j; i, j = i+1, j-1 {
		chain[i], chain[j] = chain[j], chain[i]
	}
	return chain, proto
}

// hopAddr reads one hop: 203.0.113.7, 203.0.113.7:4711, [2001:db8::1] or [2001:db8::1]:4711.
func hopAddr(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}
