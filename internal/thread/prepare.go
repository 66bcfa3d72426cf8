package thread

import "hotline/internal/vault"

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

// Prepare encapsulates a new message's body to the school and, when
// reporterPub is set, to the reporter, under the labels Seal uses.
func Prepare(schoolID int64, tipUID string, schoolPub, reporterPub []byte) (*Prepared, error) {
	p := &Prepared{UID: vault.NewID()}
	var err error
	if p.school, err = vault.PrepareSeal(schoolPub, info(schoolID, tipUID, p.UID, PartBody)); err != nil {
		return nil, err
	}
	if reporterPub != nil {
		if p.reporter, err = vault.PrepareSeal(reporterPub, info(schoolID, tipUID, p.UID, PartReporterBody)); err != nil {
			return nil, err
		}
	}
	return p, nil
}
