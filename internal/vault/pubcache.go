package vault

import (
	"container/list"
	"crypto/hpke"
	"sync"
)

// pubKeys keeps recently used public keys parsed. Parsing a hybrid key
// expands its ML-KEM matrix from the seed, about 45 µs: as much as the
// rest of a seal's encapsulation. A school's key seals every report and
// reply of that school, so parsing it once per process, not once per
// message, takes that off every tip. Reporter keys, new with each tip,
// pass through and fall out the back. The parsed keys are immutable and
// safe to share; they are public.
var pubKeys = newPubCache(512)

type pubCache struct {
	mu    sync.Mutex
	max   int
	order *list.List // front: most recently used; values are *pubEntry
	byKey map[string]*list.Element
}

type pubEntry struct {
	raw string
	pk  hpke.PublicKey
}

func newPubCache(max int) *pubCache {
	return &pubCache{max: max, order: list.New(), byKey: make(map[string]*list.Element, max)}
}

// parse returns publicKey parsed, from the cache when it was used lately.
func (c *pubCache) parse(publicKey []byte) (hpke.PublicKey, error) {
	c.mu.Lock()
	if el, ok := c.byKey[string(publicKey)]; ok {
		c.order.MoveToFront(el)
		pk := el.Value.(*pubEntry).pk
		c.mu.Unlock()
		return pk, nil
	}
	c.mu.Unlock()
	// Parse outside the lock: it is the slow part, and two sealers racing
	// on one new key only parse it twice.
	pk, err := kem.NewPublicKey(publicKey)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byKey[string(publicKey)]; !ok {
		c.byKey[string(publicKey)] = c.order.PushFront(&pubEntry{raw: string(publicKey), pk: pk})
		if c.order.Len() > c.max {
			last := c.order.Back()
			c.order.Remove(last)
			delete(c.byKey, last.Value.(*pubEntry).raw)
		}
	}
	return pk, nil
}
