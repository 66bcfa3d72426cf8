package store

import (
	"hotline/internal/hotline"
)

// TxNotifier publishes a change as part of a write transaction, so that it
// is delivered if and only if the transaction commits (Tx.Notify; see
// internal/cluster).
type TxNotifier interface {
	NotifyTx(tx *Tx, c hotline.Change) error
}

// NotifyOnCommit publishes c through n once tx commits: inside tx when n
// is a TxNotifier, else after the commit. A nil n does nothing.
func NotifyOnCommit(tx *Tx, n hotline.Notifier, c hotline.Change) error {
	if n == nil {
		return nil
	}
	if tn, ok := n.(TxNotifier); ok {
		return tn.NotifyTx(tx, c)
	}
	tx.AfterCommit(func() { n.Notify(c) })
	return nil
}
