package auth

import (
	"container/list"
	"slices"
	"sync"
	"time"
)

// tokenCache remembers validation results by the token's SHA-256 (the
// token itself is not kept), least recently used first out. A nil
// *tokenCache caches nothing.
type tokenCache struct {
	mu      sync.Mutex
	max     int
	entries map[string]*list.Element
	order   *list.List // front: most recently used
}

type cacheEntry struct {
	key     string
	caller  Caller // Token empty
	valid   bool   // false: Keystone refused the token
	expires time.Time
}

func newTokenCache(size int) *tokenCache {
	return &tokenCache{max: size, entries: map[string]*list.Element{}, order: list.New()}
}

// get returns the cached result for key; ok is false on a miss.
func (c *tokenCache) get(key string, now time.Time) (caller Caller, valid, ok bool) {
	if c == nil {
		return Caller{}, false, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, found := c.entries[key]
	if !found {
		return Caller{}, false, false
	}
	e := el.Value.(*cacheEntry)
	if !now.Before(e.expires) {
		c.order.Remove(el)
		delete(c.entries, key)
		return Caller{}, false, false
	}
	c.order.MoveToFront(el)
	caller = e.caller
	caller.Roles = slices.Clone(e.caller.Roles)
	return caller, e.valid, true
}

// put stores a result until expires, evicting the least recently used
// entry when full.
func (c *tokenCache) put(key string, caller Caller, valid bool, expires time.Time) {
	if c == nil || !time.Now().Before(expires) {
		return
	}
	caller.Token = ""
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, found := c.entries[key]; found {
		el.Value = &cacheEntry{key: key, caller: caller, valid: valid, expires: expires}
		c.order.MoveToFront(el)
		return
	}
	c.entries[key] = c.order.PushFront(&cacheEntry{key: key, caller: caller, valid: valid, expires: expires})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.entries, last.Value.(*cacheEntry).key)
	}
}

// len is the number of entries, for tests.
func (c *tokenCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
