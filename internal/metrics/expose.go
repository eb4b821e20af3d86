package metrics

import (
	"bytes"
	"io"
	"net/http"
	rtmetrics "runtime/metrics"
	"strconv"
	"strings"
)

// contentType is the media type of the Prometheus text format, version 0.0.4.
const contentType = "text/plain; version=0.0.4; charset=utf-8"

// Runtime metrics read at each scrape; together heap objects and heap unused
// are the bytes in in-use heap spans, runtime.MemStats.HeapInuse, read here
// without stopping the world.
const (
	goroutinesMetric  = "/sched/goroutines:goroutines"
	heapObjectsMetric = "/memory/classes/heap/objects:bytes"
	heapUnusedMetric  = "/memory/classes/heap/unused:bytes"
)

// Handler serves the counters and gauges in the Prometheus text format.
func (r *Registry) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "no-store")
		r.WriteTo(w)
	})
}

// WriteTo writes every counter, then the process gauges, in the Prometheus
// text format 0.0.4, in the same order each time. A nil registry writes
// nothing.
func (r *Registry) WriteTo(w io.Writer) (int64, error) {
	if r == nil {
		return 0, nil
	}
	var b bytes.Buffer
	for _, c := range r.counters {
		header(&b, c.name, c.help, "counter")
		for i := range c.counts {
			b.WriteString(c.name)
			if c.label != "" {
				labels(&b, c.label, c.values[i])
			}
			b.WriteByte(' ')
			b.WriteString(strconv.FormatUint(c.counts[i].Load(), 10))
			b.WriteByte('\n')
		}
	}
	r.writeGauges(&b)
	n, err := w.Write(b.Bytes())
	return int64(n), err
}

func (r *Registry) writeGauges(b *bytes.Buffer) {
	samples := []rtmetrics.Sample{
		{Name: goroutinesMetric}, {Name: heapObjectsMetric}, {Name: heapUnusedMetric},
	}
	rtmetrics.Read(samples)

	gauge(b, "thunaivi_start_time_seconds",
		"When the process started, in seconds since the Unix epoch.",
		strconv.FormatFloat(float64(r.start.UnixMilli())/1e3, 'f', -1, 64))
	gauge(b, "thunaivi_goroutines", "Goroutines that exist now.",
		strconv.FormatUint(uint64Value(samples[0]), 10))
	gauge(b, "thunaivi_heap_inuse_bytes", "Bytes in in-use heap spans.",
		strconv.FormatUint(uint64Value(samples[1])+uint64Value(samples[2]), 10))

	header(b, "thunaivi_build_info",
		"The running build: its module version and the Go release that built it.", "gauge")
	b.WriteString("thunaivi_build_info")
	labels(b, "version", r.version, "goversion", r.goversion)
	b.WriteString(" 1\n")
}

// uint64Value is a runtime metric's value, or 0 when this Go release does not
// have the metric.
func uint64Value(s rtmetrics.Sample) uint64 {
	if s.Value.Kind() != rtmetrics.KindUint64 {
		return 0
	}
	return s.Value.Uint64()
}

func gauge(b *bytes.Buffer, name, help, value string) {
	header(b, name, help, "gauge")
	b.WriteString(name)
	b.WriteByte(' ')
	b.WriteString(value)
	b.WriteByte('\n')
}

func header(b *bytes.Buffer, name, help, typ string) {
	b.WriteString("# HELP ")
	b.WriteString(name)
	b.WriteByte(' ')
	helpEscaper.WriteString(b, help)
	b.WriteString("\n# TYPE ")
	b.WriteString(name)
	b.WriteByte(' ')
	b.WriteString(typ)
	b.WriteByte('\n')
}

// labels writes {name="value",...} from alternating names and values.
func labels(b *bytes.Buffer, pairs ...string) {
	b.WriteByte('{')
	for i := 0; i < len(pairs); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(pairs[i])
		b.WriteString(`="`)
		valueEscaper.WriteString(b, pairs[i+1])
		b.WriteByte('"')
	}
	b.WriteByte('}')
}

// The text format escapes a backslash and a line feed in help text, and a
// double quote too in a label value.
var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	valueEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)
