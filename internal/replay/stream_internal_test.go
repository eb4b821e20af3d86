package replay

import (
	"bufio"
	"strings"
	"testing"
	"time"
)

func TestReadEvent(t *testing.T) {
	in := "event: ready\ndata: {}\n\n: keep-alive\n\nevent: message\ndata: {\"a\":1}\n\n" +
		"event: routed\ndata: {\"routed\":\n\n"
	r := bufio.NewReader(strings.NewReader(in))
	data, err := readEvent(r, "routed")
	if err != nil || string(data) != `{"routed":` {
		t.Fatalf("readEvent = %q, %v", data, err)
	}
	if _, err := readEvent(r, "routed"); err == nil {
		t.Fatal("readEvent found an event in an ended stream")
	}
}

func TestPercentiles(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	got := percentiles(ds)
	if got != (Latencies{P50: 50, P95: 95, P99: 99}) {
		t.Fatalf("percentiles = %+v", got)
	}
	if (percentiles(nil) != Latencies{}) {
		t.Fatal("percentiles of nothing are not zero")
	}
}
