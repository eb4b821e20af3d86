package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/thunaivi/thunaivi/internal/store/storetest"
	"github.com/thunaivi/thunaivi/internal/web"
)

// openAPIDoc is the part of the served document the tests read.
type openAPIDoc struct {
	OpenAPI string                                 `json:"openapi"`
	Paths   map[string]map[string]openAPIOperation `json:"paths"`
}

type openAPIOperation struct {
	OperationID string           `json:"operationId"`
	Security    []map[string]any `json:"security"`
	Responses   map[string]any   `json:"responses"`
}

// TestOpenAPIMatchesTheRouter reads the served document and the router's
// route table: every API route is in the document once, with the method and
// path the server answers, and the document names no route the server does
// not have.
func TestOpenAPIMatchesTheRouter(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	var doc openAPIDoc
	e.post(nil, "GET", "/api/v1/openapi.json", nil, http.StatusOK).JSON(t, &doc)
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	ids := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
			if op.OperationID == "" || ids[op.OperationID] || len(op.Responses) == 0 {
				t.Errorf("%s %s: operation id %q, responses %v", method, path,
					op.OperationID, op.Responses)
			}
			ids[op.OperationID] = true
		}
	}
	for _, r := range e.Server.Config.Handler.(*web.Server).Routes() {
		_, path, _ := strings.Cut(r.Pattern, " ")
		if !strings.HasPrefix(path, "/api/v1/") || r.Admin {
			continue
		}
		if !documented[r.Pattern] {
			t.Errorf("the router serves %s, which the document lacks", r.Pattern)
		}
		delete(documented, r.Pattern)
	}
	for op := range documented {
		t.Errorf("the document names %s, which the router does not serve", op)
	}
}
