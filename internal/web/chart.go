package web

import (
	"fmt"
	"html/template"
	"math"
	"strings"
)

// chart is a line chart drawn on the server as inline SVG: no script, no
// style attribute, so the console's content security policy holds. Colours
// come from console.css by series index.
type chart struct {
	Title  string
	Labels []string
	Series []chartSeries
	// Max is the top of the y axis; 0 fits the data.
	Max float64
	// Format writes a value for the axis and the points' titles.
	Format func(float64) string
}

// chartSeries is one line; a point that is not Has is a gap.
type chartSeries struct {
	Name   string
	Values []float64
	Has    []bool
}

const (
	chartW, chartH           = 640, 200
	chartLeft, chartRight    = 56, 12
	chartTop, chartBottomPad = 12, 28
)

// SVG draws the chart, with a title and a legend for screen readers and
// people alike.
func (c chart) SVG() template.HTML {
	top := c.Max
	if top == 0 {
		for _, s := range c.Series {
			for i, v := range s.Values {
				if s.Has[i] {
					top = math.Max(top, v)
				}
			}
		}
		top *= 1.1 // room above the highest point
		if top == 0 {
			top = 1
		}
	}
	esc := template.HTMLEscapeString
	plotW, plotH := float64(chartW-chartLeft-chartRight), float64(chartH-chartTop-chartBottomPad)
	x := func(i int) float64 {
		if len(c.Labels) < 2 {
			return chartLeft + plotW/2
		}
		return chartLeft + plotW*float64(i)/float64(len(c.Labels)-1)
	}
	y := func(v float64) float64 { return chartTop + plotH*(1-math.Min(v, top)/top) }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s">`,
		chartW, chartH, esc(c.Title))
	fmt.Fprintf(&b, `<title>%s</title>`, esc(c.Title))
	for _, f := range []float64{0, 0.5, 1} {
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`,
			chartLeft, chartW-chartRight, y(top*f), y(top*f))
		fmt.Fprintf(&b, `<text class="axis" x="%d" y="%.1f" text-anchor="end">%s</text>`,
			chartLeft-6, y(top*f)+4, esc(c.Format(top*f)))
	}
	step := max(1, len(c.Labels)/8)
	for i, l := range c.Labels {
		anchor := "middle"
		if i == len(c.Labels)-1 && i > 0 {
			anchor = "end" // the last label stays inside the chart
		}
		if i%step == 0 || i == len(c.Labels)-1 {
			fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%d" text-anchor="%s">%s</text>`,
				x(i), chartH-8, anchor, esc(l))
		}
	}
	for n, s := range c.Series {
		var pts []string
		flush := func() {
			if len(pts) > 1 {
				fmt.Fprintf(&b, `<polyline class="series s%d" fill="none" points="%s"/>`, n,
					strings.Join(pts, " "))
			}
			pts = pts[:0]
		}
		for i, v := range s.Values {
			if !s.Has[i] {
				flush()
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(v)))
			fmt.Fprintf(&b, `<circle class="point s%d" cx="%.1f" cy="%.1f" r="3">`+
				`<title>%s, %s: %s</title></circle>`, n, x(i), y(v), esc(s.Name),
				esc(c.Labels[i]), esc(c.Format(v)))
		}
		flush()
	}
	fmt.Fprintf(&b, `</svg><p class="legend"><strong>%s</strong> `, esc(c.Title))
	for n, s := range c.Series {
		fmt.Fprintf(&b, `<span class="key s%d">%s</span> `, n, esc(s.Name))
	}
	b.WriteString(`</p>`)
	return template.HTML(b.String())
}

func percent(v float64) string { return fmt.Sprintf("%.0f%%", v*100) }

func seconds(v float64) string {
	switch {
	case v >= 120:
		return fmt.Sprintf("%.0f min", v/60)
	case v < 10 && v != 0:
		return fmt.Sprintf("%.1f s", v)
	}
	return fmt.Sprintf("%.0f s", v)
}

func score(v float64) string { return fmt.Sprintf("%.1f", v) }
