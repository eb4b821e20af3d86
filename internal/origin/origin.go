// Package origin carries who a call acts for and where it came from, from the
// HTTP layer down to the audit log and the process log, in the context.
package origin

import "context"

// ActorType says what kind of party acted.
type ActorType string

const (
	// User is a signed-in member of a workspace.
	User ActorType = "user"
	// APIKey is a server-side integration using a workspace API key.
	APIKey ActorType = "apikey"
	// System is the product itself: jobs, start-up, commands an operator runs.
	System ActorType = "system"
	// Customer is a person chatting through a channel such as the website widget.
	Customer ActorType = "customer"
	// Anonymous is a caller not identified yet, such as a failed sign-in.
	Anonymous ActorType = "anonymous"
)

// Actor is the party a call acts for. Email is a snapshot taken when the
// call was made, so a later change of address does not rewrite history.
type Actor struct {
	Type  ActorType
	ID    string
	Email string
}

// Request describes the HTTP request a call serves.
type Request struct {
	ID        string
	IP        string
	UserAgent string
}

type requestKey struct{}
type actorKey struct{}

// WithRequest returns ctx carrying r.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestFrom returns the request ctx carries, or the zero Request.
func RequestFrom(ctx context.Context) Request {
	r, _ := ctx.Value(requestKey{}).(Request)
	return r
}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor ctx carries; without one the product itself
// is acting.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return Actor{Type: System}
}
