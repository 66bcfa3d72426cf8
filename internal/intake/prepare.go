package intake

import (
	"sync"
	"time"

	"hotline/internal/thread"
	"hotline/internal/vault"
)

// A small pool per school prepares tips ahead of time — a random tip id,
// messages whose encapsulations to the school are made (thread.Prepare)
// and, for the web, a fresh receipt and its reporter key — so that a report
// that arrives only has to run the symmetric part: a reporter waits for one
// commit, not for a seal and a commit. Nothing in the pool is persisted or
// logged.

const (
	slotsPerPool    = 4
	messagesPerSlot = 1
	maxPools        = 512
	poolIdle        = 10 * time.Minute
)

type poolKey struct {
	school int64
	web    bool
}

// slot is one prepared tip.
type slot struct {
	tipUID      string
	receipt     string // web only
	reporterPub []byte
	msgs        []*thread.Prepared
}

type pool struct {
	pub   []byte
	slots chan *slot
	used  time.Time
}

type preparer struct {
	v     *vault.Vault
	mu    sync.Mutex
	pools map[poolKey]*pool
	wake  chan poolKey
	done  chan struct{}
	once  sync.Once
	stop  sync.Once
}

func newPreparer(v *vault.Vault) *preparer {
	return &preparer{v: v, pools: map[poolKey]*pool{}, wake: make(chan poolKey, 256), done: make(chan struct{})}
}

// take returns a prepared tip for the school, or nil when none is ready,
// and asks for the pool to be refilled.
func (p *preparer) take(school int64, pub []byte, web bool) *slot {
	p.once.Do(func() { go p.run() })
	key := poolKey{school, web}
	p.mu.Lock()
	pl := p.pools[key]
	if pl == nil || string(pl.pub) != string(pub) {
		if len(p.pools) >= maxPools {
			p.evictLocked()
		}
		pl = &pool{pub: pub, slots: make(chan *slot, slotsPerPool)}
		p.pools[key] = pl
	}
	pl.used = time.Now()
	p.mu.Unlock()
	var s *slot
	select {
	case s = <-pl.slots:
	default:
	}
	select {
	case p.wake <- key:
	default:
	}
	return s
}

func (p *preparer) evictLocked() {
	var oldest poolKey
	var t time.Time
	for k, pl := range p.pools {
		if t.IsZero() || pl.used.Before(t) {
			oldest, t = k, pl.used
		}
	}
	delete(p.pools, oldest)
}

func (p *preparer) run() {
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		select {
		case <-p.done:
			return
		case key := <-p.wake:
			p.fill(key)
		case <-tick.C:
			p.mu.Lock()
			for k, pl := range p.pools {
				if time.Since(pl.used) > poolIdle {
					delete(p.pools, k)
				}
			}
			p.mu.Unlock()
		}
	}
}

func (p *preparer) fill(key poolKey) {
	for {
		p.mu.Lock()
		pl := p.pools[key]
		p.mu.Unlock()
		if pl == nil || len(pl.slots) >= cap(pl.slots) {
			return
		}
		s, err := prepareSlot(p.v, key.school, pl.pub, key.web)
		if err != nil {
			return // Submit seals on the spot instead
		}
		select {
		case pl.slots <- s:
		default:
			return
		case <-p.done:
			return
		}
	}
}

func prepareSlot(v *vault.Vault, school int64, pub []byte, web bool) (*slot, error) {
	s := &slot{tipUID: vault.NewID()}
	if web {
		var err error
		if s.receipt, err = vault.NewReceipt(); err != nil {
			return nil, err
		}
		rk, err := v.ReporterKey(s.receipt, vault.ReporterKeyCurrent)
		if err != nil {
			return nil, err
		}
		s.reporterPub = rk.PublicKey()
		rk.Wipe()
	}
	for i := 0; i < messagesPerSlot; i++ {
		m, err := thread.Prepare(school, s.tipUID, pub, s.reporterPub)
		if err != nil {
			return nil, err
		}
		s.msgs = append(s.msgs, m)
	}
	return s, nil
}

func (p *preparer) close() {
	p.stop.Do(func() { close(p.done) })
}
