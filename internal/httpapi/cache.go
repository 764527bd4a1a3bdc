package httpapi

import (
	"sync"
)

// pageCache keeps the bodies of recent finder answers for one catalogue version and day, so
// that the pages most asked for (the first page of a country, a level, an intake) are sent
// without being computed again. A new version or a new day empties it: an answer is never
// served from a catalogue it does not belong to. It is bounded in bytes and evicts the oldest
// entries first.
type pageCache struct {
	mu       sync.RWMutex
	gen      string
	entries  map[string]cachedPage
	fifo     []string
	bytes    int
	maxBytes int
}

type cachedPage struct {
	body []byte
	etag string
}

func newPageCache(maxBytes int) *pageCache {
	if maxBytes <= 0 {
		return nil
	}
	return &pageCache{entries: map[string]cachedPage{}, maxBytes: maxBytes}
}

func (c *pageCache) get(gen, key string) (cachedPage, bool) {
	if c == nil {
		return cachedPage{}, false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.gen != gen {
		return cachedPage{}, false
	}
	p, ok := c.entries[key]
	return p, ok
}

func (c *pageCache) put(gen, key string, p cachedPage) (kept bool) {
	if c == nil || len(p.body) > c.maxBytes/16 {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		c.gen, c.entries, c.fifo, c.bytes = gen, map[string]cachedPage{}, nil, 0
	}
	if _, ok := c.entries[key]; ok {
		return false
	}
	for c.bytes+len(p.body) > c.maxBytes && len(c.fifo) > 0 {
		old := c.fifo[0]
		c.fifo = c.fifo[1:]
		c.bytes -= len(c.entries[old].body)
		delete(c.entries, old)
	}
	c.entries[key] = p
	c.fifo = append(c.fifo, key)
	c.bytes += len(p.body)
	return true
}
