package web_test

import (
	"net/http"
	"testing"

	"github.com/thunaivi/thunaivi/internal/brain"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

func TestWidgetRoutesEachOutcome(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		cases := []struct {
			text string
			want brain.Action
		}{
			{"how long does shipping take?", brain.ActionAnswer},
			{"someone used my card for purchases I never made", brain.ActionHandoff},
			{"I want to talk to a real person", brain.ActionHandoff},
		}
		for _, c := range cases {
			v := e.startChat(e.WS.Inbox.WidgetToken)
			if got := v.send(c.text); got != c.want {
				t.Errorf("%q: outcome %s, want %s", c.text, got, c.want)
			}
		}
	})
}

func TestWidgetRefusesWrongToken(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	res := e.do(nil, "POST", "/widget/v1/conversations",
		map[string]string{"X-Widget-Token": "thv_wt_wrong"}, nil)
	if res.Status != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", res.Status)
	}
}
