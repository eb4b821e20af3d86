package identity_test

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/audit/audittest"
	"github.com/thunaivi/thunaivi/internal/identity"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

func benchService(b *testing.B) *identity.Service {
	db := storetest.OpenSQLite(b)
	ids, err := identity.New(db, time.Now, audittest.New(b, db, time.Now))
	if err != nil {
		b.Fatal(err)
	}
	err = db.InTx(context.Background(), func(tx *store.Tx) error {
		_, err := ids.CreateUser(context.Background(), tx, "a@example.com", "",
			"a good long password")
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return ids
}

// BenchmarkLogin checks a password as a sign-in does (argon2id, m=19 MiB,
// t=2, p=1) and reports the median; the target is under 100 ms.
func BenchmarkLogin(b *testing.B) {
	ids := benchService(b)
	var took []time.Duration
	for b.Loop() {
		start := time.Now()
		if _, err := ids.Authenticate(context.Background(), "a@example.com",
			"a good long password"); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
}

// BenchmarkParallelLogins sends 200 sign-in attempts at once and reports
// the peak heap while they run: hashing is limited to a few at a time, so
// the peak stays far below 200 hashes' worth (3.7 GiB).
func BenchmarkParallelLogins(b *testing.B) {
	ids := benchService(b)
	for b.Loop() {
		var peak atomic.Uint64
		stop := make(chan struct{})
		var sampler sync.WaitGroup
		sampler.Go(func() {
			var m runtime.MemStats
			for {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		})
		var wg sync.WaitGroup
		start := time.Now()
		for range 200 {
			wg.Go(func() {
				ids.Authenticate(context.Background(), "a@example.com", "a wrong password")
			})
		}
		wg.Wait()
		close(stop)
		sampler.Wait()
		b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
		b.ReportMetric(time.Since(start).Seconds(), "s-for-200")
	}
}
