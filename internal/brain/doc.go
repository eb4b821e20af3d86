// Package brain is Thunaivi's embedded AI: it retrieves knowledge-base entries
// for a customer's message, detects restricted categories and decides, for every
// incoming message, whether the AI answers, drafts a reply for an agent, or hands
// the conversation to a person. It needs no network and no external service.
//
// The package holds no storage: callers load entries and categories from the
// store and build an Index and a Router from them. A Router is immutable and safe
// for concurrent use; rebuild it when the knowledge base or the settings change.
package brain
