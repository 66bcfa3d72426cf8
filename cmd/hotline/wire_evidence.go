package main

import "hotline/internal/evidence"

// evidence returns the case evidence bundle service (证据包) the inbox and
// the district pages export with: one per Main, made on first use.
func (m *Main) evidence() *evidence.Service {
	if m.evidenceSvc == nil {
		m.evidenceSvc = evidence.New(m.DB, m.Triage, m.Logger)
	}
	return m.evidenceSvc
}
