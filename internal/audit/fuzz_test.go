package audit_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

// FuzzReadCheckpoints feeds arbitrary text to the checkpoint reader, as a
// checkpoint file or a log collector's output could hold, and checks that it
// never panics and that nothing it reads is trusted without the signature.
func FuzzReadCheckpoints(f *testing.F) {
	fx := newFixture(f, storetest.OpenSQLite(f))
	fx.write(f, 3)
	var out bytes.Buffer
	sink, _ := audit.OpenSink("stdout", "", &out)
	fx.log.NewSealer(sink, audit.Checkpoints{}).Seal(context.Background())
	f.Add(out.String())
	f.Add(`{"thunaivi_audit_checkpoint":"v1","seq":9,"hash":"00","at":1,"key":"x","sig":"y"}`)
	f.Add("Dec 4 host thunaivi-audit[1]: " + out.String() + "{\"thunaivi_audit_checkpoint\"")
	f.Fuzz(func(t *testing.T, text string) {
		cps, err := audit.ReadCheckpoints(strings.NewReader(text))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := fx.log.Verify(context.Background(), cps)
		if err != nil {
			t.Fatal(err)
		}
		// Only the genuine checkpoint of entry 3 may ever be trusted.
		if rep.Sealed != 0 && rep.Sealed != 3 {
			t.Fatalf("a checkpoint for entry %d was trusted: %+v", rep.Sealed, rep)
		}
	})
}
