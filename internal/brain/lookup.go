package brain

// Entry returns the published entry with the given id from the router's index.
func (r *Router) Entry(id string) (Entry, bool) { return r.index.Entry(id) }

// Category returns the restricted category of a name.
func (r *Router) Category(name string) (Category, bool) {
	for _, c := range r.cats {
		if c.Name == name {
			return c, true
		}
	}
	return Category{}, false
}
