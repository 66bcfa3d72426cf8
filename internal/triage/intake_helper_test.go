package triage_test

import (
	"hotline/internal/intake"
	"hotline/internal/triage"
)

func intakeFor(svc *triage.Service) *intake.Service {
	return intake.New(svc.DB, svc.Vault, nil, nil)
}
