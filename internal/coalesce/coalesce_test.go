package coalesce

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestOneCallPerKey starts callers of one key while its call runs: one
// runs fn, on its own goroutine, and the others receive its result.
func TestOneCallPerKey(t *testing.T) {
	var g Group[int]
	var calls atomic.Int32
	release := make(chan struct{})
	started := make(chan struct{})
	fn := func() (int, error) {
		if calls.Add(1) == 1 {
			close(started)
			<-release
		}
		return 42, nil
	}
	var wg sync.WaitGroup
	var leaders atomic.Int32
	results := make([]int, 8)
	wg.Add(1)
	go func() {
		defer wg.Done()
		v, err, leader := g.Do(context.Background(), "k", fn)
		if err != nil || !leader {
			t.Errorf("first caller: err %v, leader %v", err, leader)
		}
		results[0] = v
	}()
	<-started
	for i := 1; i < len(results); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err, leader := g.Do(context.Background(), "k", fn)
			if err != nil {
				t.Errorf("caller %d: %v", i, err)
			}
			if leader {
				leaders.Add(1)
			}
			results[i] = v
		}()
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	// A caller that arrived after the call returned leads a call of its own.
	if n := calls.Load(); n != 1+leaders.Load() {
		t.Fatalf("fn ran %d times for %d leaders", n, 1+leaders.Load())
	}
	for i, v := range results {
		if v != 42 {
			t.Fatalf("caller %d got %d", i, v)
		}
	}
}

// TestWaiterLeavesAtItsDeadline checks that a waiter returns its context's
// error when the context ends first, while the call goes on.
func TestWaiterLeavesAtItsDeadline(t *testing.T) {
	var g Group[string]
	release := make(chan struct{})
	started := make(chan struct{})
	led := make(chan string)
	go func() {
		v, _, _ := g.Do(context.Background(), "k", func() (string, error) {
			close(started)
			<-release
			return "done", nil
		})
		led <- v
	}()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err, leader := g.Do(ctx, "k", func() (string, error) { return "", errors.New("ran a second call") })
	if !errors.Is(err, context.DeadlineExceeded) || leader {
		t.Fatalf("waiter: err %v, leader %v; want its deadline, not leading", err, leader)
	}
	close(release)
	if v := <-led; v != "done" {
		t.Fatalf("leader got %q", v)
	}
}

// TestPanicReleasesWaiters checks that the waiters of a call that panics
// receive ErrPanicked, the caller that ran it panics, and the key is free
// again.
func TestPanicReleasesWaiters(t *testing.T) {
	var g Group[int]
	release := make(chan struct{})
	started := make(chan struct{})
	panicked := make(chan any)
	go func() {
		defer func() { panicked <- recover() }()
		g.Do(context.Background(), "k", func() (int, error) {
			close(started)
			<-release
			panic("boom")
		})
	}()
	<-started
	waited := make(chan error)
	go func() {
		_, err, _ := g.Do(context.Background(), "k", func() (int, error) { return 0, nil })
		waited <- err
	}()
	waitForWaiter(t, &g, "k")
	close(release)
	if p := <-panicked; p != "boom" {
		t.Fatalf("leader recovered %v, want boom", p)
	}
	if err := <-waited; !errors.Is(err, ErrPanicked) {
		t.Fatalf("waiter: %v, want ErrPanicked", err)
	}
	if v, err, leader := g.Do(context.Background(), "k", func() (int, error) { return 7, nil }); v != 7 || err != nil || !leader {
		t.Fatalf("after the panic: %d, %v, leader %v", v, err, leader)
	}
}

// waitForWaiter returns once a caller waits for the call of key.
func waitForWaiter[V any](t *testing.T, g *Group[V], key string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		g.mu.Lock()
		c := g.calls[key]
		waiting := c != nil && c.done != nil
		g.mu.Unlock()
		if waiting {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no caller waits after 10s")
		}
	}
}
