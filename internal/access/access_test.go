package access_test

import (
	"testing"

	"github.com/thunaivi/thunaivi/internal/access"
)

func TestMatrix(t *testing.T) {
	cases := []struct {
		role access.Role
		perm access.Permission
		want bool
	}{
		{access.Agent, access.ConversationsRead, true},
		{access.Agent, access.ConversationsWrite, true},
		{access.Agent, access.ConversationsAll, false},
		{access.Agent, access.KBWrite, false},
		{access.Agent, access.BrainSettings, false},
		{access.Agent, access.TeamsManage, false},
		{access.Agent, access.MembersManage, false},
		{access.Manager, access.ConversationsAll, true},
		{access.Manager, access.KBWrite, true},
		{access.Manager, access.BrainSettings, true},
		{access.Manager, access.TeamsManage, true},
		{access.Manager, access.MembersManage, false},
		{access.Manager, access.InboxesManage, false},
		{access.Admin, access.MembersManage, true},
		{access.Admin, access.AuditRead, true},
		{access.Manager, access.AuditRead, false},
		{access.Agent, access.AuditRead, false},
		{access.Admin, access.InboxesManage, true},
		{access.Agent, access.QualityContribute, true},
		{access.Agent, access.QualityManage, false},
		{access.Manager, access.QualityManage, true},
		{access.Admin, access.QualityManage, true},
		{access.Admin, access.LLMManage, true},
		{access.Manager, access.LLMManage, false},
		{access.Agent, access.LLMManage, false},
		{access.Admin, access.IncidentsManage, true},
		{access.Manager, access.IncidentsManage, false},
		{access.Agent, access.IncidentsManage, false},
		{access.Admin, access.Permission("anything:else"), false},
		{access.Role("owner"), access.ConversationsRead, false},
		{access.Role(""), access.ConversationsRead, false},
	}
	for _, c := range cases {
		if got := access.Allowed(c.role, c.perm); got != c.want {
			t.Errorf("Allowed(%q, %q) = %v, want %v", c.role, c.perm, got, c.want)
		}
	}
}

func TestRoleValid(t *testing.T) {
	for role, want := range map[access.Role]bool{"admin": true, "manager": true, "agent": true,
		"Admin": false, "owner": false, "": false} {
		if got := role.Valid(); got != want {
			t.Errorf("%q.Valid() = %v, want %v", role, got, want)
		}
	}
}
