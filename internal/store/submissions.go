package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"hotline/internal/hotline"
)

// ErrSubmissionFiled is returned by InsertSubmission when the submission
// already filed a tip: the caller answers with that tip instead.
var ErrSubmissionFiled = errors.New("store: submission already filed")

// Submission is the record of one filed submission: its tip, and a web
// receipt sealed to the reporter's page while it may still be claimed.
type Submission struct {
	TipID         int64
	ReceiptSealed []byte    // nil when none, claimed or expired
	ReceiptUntil  time.Time // when the sealed receipt expires
}

// InsertSubmission records that the submission whose HMAC is mac filed the
// tip tipID. A second record of the same submission fails with
// ErrSubmissionFiled (the unique key, not a prior read, decides), so that
// two racing filings of one report cannot both commit. A sealed receipt
// is kept until until (SealedReceipt serves it no longer after that) and
// cleared by ExpireSealedReceipts.
func (tx *Tx) InsertSubmission(mac []byte, tipID int64, receiptSealed []byte, until time.Time) error {
	if len(mac) == 0 {
		return fmt.Errorf("insert submission: empty key")
	}
	var untilMicros int64
	if receiptSealed != nil {
		untilMicros = micros(until)
	}
	// Sent late (see late): the key's refusal is ErrSubmissionFiled
	// whenever it is reported, by the job's release or its commit.
	return tx.execLate(func(err error) error {
		if tx.isUnique(err) {
			return ErrSubmissionFiled
		}
		return fmt.Errorf("insert submission: %w", err)
	}, `INSERT INTO submissions (submission_mac, tip_id, receipt_sealed, receipt_until) VALUES (?, ?, ?, ?)`,
		mac, tipID, nullBytes(receiptSealed), untilMicros)
}

// ExpireSealedReceipts clears the sealed receipts past their time and
// returns how many. The scheduler runs it once a pass: it reads every
// receipt still kept (the partial index submissions_pending holds only
// those), which every web tip's own transaction used to do, a cost that
// grew with the day's web reports.
func (tx *Tx) ExpireSealedReceipts() (int64, error) {
	res, err := tx.exec(`UPDATE submissions SET receipt_sealed = NULL WHERE receipt_sealed IS NOT NULL AND receipt_until < ?`, micros(tx.now))
	if err != nil {
		return 0, fmt.Errorf("expire sealed receipts: %w", err)
	}
	return res.RowsAffected()
}

// SubmittedTip returns the tip a submission filed, or hotline.ErrNotFound.
func (tx *Tx) SubmittedTip(mac []byte) (*hotline.Tip, error) {
	var id int64
	err := tx.queryRow(`SELECT tip_id FROM submissions WHERE submission_mac = ?`, mac).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hotline.ErrNotFound
	} else if err != nil {
		return nil, err
	}
	return tx.TipByID(id)
}

// SealedReceipt returns the sealed receipt kept for a tip's submission, if
// it has not been claimed and has not expired; else hotline.ErrNotFound.
func (tx *Tx) SealedReceipt(tipID int64) ([]byte, error) {
	var b []byte
	err := tx.GetContext(tx.c(), &b, tx.Rebind(`SELECT receipt_sealed FROM submissions
		WHERE tip_id = ? AND receipt_sealed IS NOT NULL AND receipt_until >= ? LIMIT 1`), tipID, micros(tx.now))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hotline.ErrNotFound
	}
	return b, err
}

// ClearSealedReceipt forgets a tip's sealed receipt: it was claimed.
func (tx *Tx) ClearSealedReceipt(tipID int64) error {
	_, err := tx.exec(`UPDATE submissions SET receipt_sealed = NULL WHERE tip_id = ? AND receipt_sealed IS NOT NULL`, tipID)
	return err
}

// txKey carries a write transaction in a context; see WithTx.
type txKey struct{}

// WithTx returns ctx carrying tx, for a callback that runs inside tx and
// hands the context to a store that must write in the same transaction
// (the conversation saved with the tip it filed). Only code that runs
// inside the job of tx may use it.
func WithTx(ctx context.Context, tx *Tx) context.Context {
	return context.WithValue(ctx, txKey{}, tx)
}

// TxFrom returns the write transaction ctx carries, or nil.
func TxFrom(ctx context.Context) *Tx {
	tx, _ := ctx.Value(txKey{}).(*Tx)
	return tx
}
