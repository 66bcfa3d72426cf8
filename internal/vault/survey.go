package vault

import (
	"errors"
	"fmt"
)

// A survey code is a one-time code printed on a slip that a pupil uses to
// answer a class questionnaire once: 11 random Crockford base32 characters
// (55 bits) and one Damm check character, in three groups of four
// (e.g. "7KQ2-M9XF-H3DP"). 55 bits against a district's hundred thousand
// live codes leaves a guess about one chance in 3·10¹¹; the check character
// tells a typo from a wrong code without asking the database.
const (
	surveyDataChars = 11
	surveyChars     = surveyDataChars + 1
	surveyGroup     = 4
)

// ErrSurveyCodeFormat means a typed survey code has bad characters, a bad
// length or a wrong check character: a typo.
var ErrSurveyCodeFormat = errors.New("vault: survey code has a typo")

// NewSurveyCode returns a new one-time survey code in its canonical form.
func NewSurveyCode() (string, error) {
	vals, err := randomValues(surveyDataChars)
	if err != nil {
		return "", err
	}
	return groupBy(append(vals, dammCheck(vals)), surveyGroup, '-'), nil
}

// ParseSurveyCode normalizes a typed or scanned survey code (case, spaces,
// dashes, full-width forms, O/I/L look-alikes), checks it and returns the
// canonical form; anything else returns ErrSurveyCodeFormat.
func ParseSurveyCode(s string) (string, error) {
	vals, ok := decodeCode(s)
	if !ok {
		return "", fmt.Errorf("%w: invalid character", ErrSurveyCodeFormat)
	}
	if len(vals) != surveyChars {
		return "", fmt.Errorf("%w: want %d characters, got %d", ErrSurveyCodeFormat, surveyChars, len(vals))
	}
	if !dammValid(vals) {
		return "", fmt.Errorf("%w: check character mismatch", ErrSurveyCodeFormat)
	}
	return groupBy(vals, surveyGroup, '-'), nil
}

// SurveyCodeMAC returns MAC("survey-code", canonical code): the only form
// in which a code is stored. Call ParseSurveyCode first.
func (v *Vault) SurveyCodeMAC(canonical string) []byte {
	return v.MAC("survey-code", []byte(canonical))
}

// groupBy renders values as Crockford characters in groups of n joined by sep.
func groupBy(vals []byte, n int, sep byte) string {
	b := make([]byte, 0, len(vals)+len(vals)/n)
	for i, v := range vals {
		if i > 0 && i%n == 0 {
			b = append(b, sep)
		}
		b = append(b, crockford[v])
	}
	return string(b)
}
