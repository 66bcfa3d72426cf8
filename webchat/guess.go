package webchat

// Receipt guessing on the websocket: a frame that carries a receipt this
// session has not opened may be a guess. Resume and sync cost a guess only
// when the receipt opens nothing; other frames with such a receipt cost
// one outright, since the engine's answer to them could tell a guesser
// whether a receipt exists. A client out of guesses is refused before any
// lookup, so the refusal tells nothing.

import (
	"crypto/sha256"
	"strings"

	"github.com/gorilla/websocket"

	"hotline/internal/hotline"
	"hotline/internal/vault"
)

// receiptKey is what a session remembers of the receipt it opened: a MAC
// under the server key, never the receipt.
func (c *wsConn) receiptKey(receipt string) string {
	receipt = strings.TrimSpace(receipt)
	if canon, err := vault.ParseReceipt(receipt); err == nil {
		receipt = canon
	}
	if mac := c.h.s.MAC; mac != nil {
		return string(mac("webchat-session-receipt", []byte(receipt)))
	}
	sum := sha256.Sum256([]byte(receipt))
	return string(sum[:])
}

// admitReceipt applies the guess limit to a frame before it is claimed;
// refused, the page is told how long to wait (the frame is not recorded,
// so it may be sent again then).
func (c *wsConn) admitReceipt(ss *session, f *inFrame) bool {
	receipt := strings.TrimSpace(f.Receipt)
	if receipt == "" || ss.opened(c.receiptKey(receipt)) {
		return true
	}
	lim := c.h.s.limits
	ok, wait := lim.Ready(c.client, actGuess)
	if ok {
		if f.Type != "resume" && f.Type != "sync" {
			lim.Charge(c.client, actGuess)
		}
		return true
	}
	c.direct(outFrame{Type: "error", ID: f.ID, Code: codeGuesses, Text: hotline.ErrorMessage(waitError(txtTooManyGuesses, wait), c.language())})
	c.strikes++
	if c.strikes > maxStrikes {
		c.closeWith(websocket.ClosePolicyViolation, codeGuesses)
	}
	return false
}

// setReceipt remembers which receipt the session opened.
func (ss *session) setReceipt(key string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.receipt = key
}

func (ss *session) opened(key string) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.receipt != "" && ss.receipt == key
}
