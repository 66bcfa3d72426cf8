package thread

import (
	"hotline/internal/hotline"
	"hotline/internal/store"
	"hotline/internal/vault"
)

// preparedAuthor is who writes a prepared message: only reporters' words
// are prepared, and the author is part of the label the encapsulation is
// made under.
const preparedAuthor = hotline.AuthorReporter

// Prepared is a message id with the encapsulations of its body made ahead
// of time. Sealing a message costs a hybrid post-quantum key encapsulation,
// about as long as a durable commit, and the encapsulation does not depend
// on the words: intake keeps a few prepared so that a report that arrives
// only runs the symmetric part. A Prepared seals once; nothing of it is
// persisted or logged.
type Prepared struct {
	UID      string
	school   *vault.Sealer
	reporter *vault.Sealer // nil unless a reporter key was given
}

// Prepare encapsulates a new reporter's message body to the school and,
// when reporterPub is set, to the reporter, under the labels Seal uses.
func Prepare(schoolID int64, tipUID string, schoolPub, reporterPub []byte) (*Prepared, error) {
	p := &Prepared{UID: vault.NewID()}
	m := &store.SealedMessage{UID: p.UID, Author: preparedAuthor, SealVersion: vault.InfoV2}
	var err error
	if p.school, err = vault.PrepareSeal(schoolPub, info(schoolID, tipUID, m, PartBody)); err != nil {
		return nil, err
	}
	if reporterPub != nil {
		if p.reporter, err = vault.PrepareSeal(reporterPub, info(schoolID, tipUID, m, PartReporterBody)); err != nil {
			return nil, err
		}
	}
	return p, nil
}
