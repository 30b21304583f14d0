package kvlog

// versionCache remembers stream versions so that an append to a known stream
// costs no read. It is bounded: when full it starts over, and a miss costs one
// reverse seek. Only the committer goroutine uses it.
type versionCache struct {
	max int
	m   map[string]uint64
}

func newVersionCache(max int) versionCache {
	return versionCache{max: max, m: make(map[string]uint64)}
}

func (c *versionCache) get(stream string) (uint64, bool) {
	v, ok := c.m[stream]
	return v, ok
}

func (c *versionCache) put(stream string, v uint64) {
	if _, ok := c.m[stream]; !ok && len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[stream] = v
}
