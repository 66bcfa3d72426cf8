package main

import (
	"strings"

	"hotline/internal/surveyweb"
)

// openSurveys serves the questionnaires: the pupils' pages under /q/ and
// the staff's under /inbox/surveys/ and /district/surveys/, behind the
// inbox's log-in, so it opens after the inbox.
func (m *Main) openSurveys() error {
	pupils, err := surveyweb.NewPupils(m.Surveys, m.Logger, m.botName, m.clientIP())
	if err != nil {
		return err
	}
	pupils.Secure = strings.HasPrefix(m.Config.PublicURL, "https://")
	staffPages, err := surveyweb.NewStaff(m.Surveys, m.Inbox, m.Logger, m.Config.PublicURL)
	if err != nil {
		return err
	}
	m.Mux.Handle("/q/", pupils)
	m.Mux.Handle("/inbox/surveys/", staffPages)
	m.Mux.Handle("/district/surveys/", staffPages)
	return nil
}
