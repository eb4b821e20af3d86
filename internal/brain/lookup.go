package brain

// Entry returns the published entry with the given id from the router's index.
func (r *Router) Entry(id string) (Entry, bool) { return r.index.Entry(id) }
