package testredis

import (
	"bytes"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// Proxy forwards TCP connections to a Redis server, so that a test may cut
// one client off the server while others still reach it: a network
// partition. While cut, nothing flows either way and new connections hang,
// as when packets are dropped; once healed, what was held back flows on.
type Proxy struct {
	// Addr is the address clients dial instead of the server's.
	Addr string

	target string
	ln     net.Listener
	mu     sync.Mutex
	cut    bool
	healed *sync.Cond
	mute   atomic.Bool
	// lose is the armed LoseReply, taken by the first request it matches.
	lose atomic.Pointer[lostReply]
}

// lostReply is a LoseReply armed: the request it matches, and what runs
// before the connection is closed.
type lostReply struct {
	request []byte
	between func()
}

// NewProxy starts a proxy to the server at target on a free loopback port,
// closed in t.Cleanup.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testredis: proxy: %v", err)
	}
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln}
	p.healed = sync.NewCond(&p.mu)
	go p.accept()
	t.Cleanup(func() {
		p.Heal()
		_ = ln.Close()
	})
	return p
}

// Cut stops every flow between the clients and the server.
func (p *Proxy) Cut() {
	p.mu.Lock()
	p.cut = true
	p.mu.Unlock()
}

// Heal lets everything flow again.
func (p *Proxy) Heal() {
	p.mu.Lock()
	p.cut = false
	p.healed.Broadcast()
	p.mu.Unlock()
}

// MuteSubscriptions makes deaf the subscriptions made through the proxy
// from then on: a connection on which the client subscribes gets what the
// server answers first (its confirmation), then nothing more. So is a
// subscription that a Cluster node confirms while its new master, after a
// failover, does not yet forward it what is published.
func (p *Proxy) MuteSubscriptions() { p.mute.Store(true) }

// LoseReply has the next request that contains request reach the server,
// and the connection it came on closed as soon as the server answers,
// before the answer reaches the client, as when a connection is killed
// right after the server ran a command (CLIENT KILL, a reset): go-redis
// then sends the command again on a new connection. between runs after the
// server answered and before the connection is closed, while the client
// still waits.
func (p *Proxy) LoseReply(request []byte, between func()) {
	p.lose.Store(&lostReply{request: request, between: between})
}

// Subscription states of a connection, for MuteSubscriptions.
const (
	unsubscribed int32 = iota
	subscribing        // the client sent a subscription: its answer may pass
	deaf               // the answer passed: nothing more does
)

// wait returns once the link is not cut.
func (p *Proxy) wait() {
	p.mu.Lock()
	for p.cut {
		p.healed.Wait()
	}
	p.mu.Unlock()
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.serve(c)
	}
}

func (p *Proxy) serve(client net.Conn) {
	p.wait()
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = client.Close()
		return
	}
	var (
		state atomic.Int32
		lost  atomic.Pointer[lostReply] // taken by a request on this connection
	)
	go p.pipe(server, client, func(b []byte) bool {
		if p.mute.Load() && bytes.Contains(bytes.ToLower(b), []byte("subscribe")) {
			state.CompareAndSwap(unsubscribed, subscribing)
		}
		if l := p.lose.Load(); l != nil && bytes.Contains(b, l.request) && p.lose.CompareAndSwap(l, nil) {
			lost.Store(l)
		}
		return true
	})
	p.pipe(client, server, func([]byte) bool {
		if l := lost.Load(); l != nil {
			l.between()
			_ = client.Close()
			_ = server.Close()
			return false
		}
		switch state.Load() {
		case subscribing:
			state.Store(deaf)
			return true
		case deaf:
			return false
		}
		return true
	})
}

// pipe copies from src to dst what pass lets through, holding data back
// while the link is cut, and closes both when src ends.
func (p *Proxy) pipe(dst, src net.Conn, pass func([]byte) bool) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && pass(buf[:n]) {
			p.wait()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
