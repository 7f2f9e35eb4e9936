package testkit

import (
	"net"
	"sync"
	"testing"
)

// StalledEndpoint listens on a loopback port, accepts every connection and
// never answers, and returns its URL (http://127.0.0.1:PORT): an endpoint
// that hangs, to prove that calls are bounded. The listener and the held
// connections are closed when the test ends.
func StalledEndpoint(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never answered
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String()
}
