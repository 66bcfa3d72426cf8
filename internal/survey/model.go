// Package survey is the anonymous class questionnaire (调查问卷): a school
// (or a district, for all of its schools) makes a survey from the built-in
// bullying questionnaire, edits it before it opens, prints one-time codes
// per class, and pupils answer once per code from the web or Telegram. A
// response is stored under the class and the wave, with the day only and
// never with its code; free text is sealed to the school's key. Results
// are shares per class, grade, school and district with small cells
// suppressed (see results.go), and findings lead to rectification
// measures (整改措施) recorded in the ledger without content.
package survey

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"hotline/internal/hotline"
)

// Kind is how a question is answered.
type Kind string

// Question kinds.
const (
	Single   Kind = "single"   // one option
	Multiple Kind = "multiple" // any options
	Scale    Kind = "scale"    // one option of an ordered scale
	Text     Kind = "text"     // short free text, sealed
)

var kindLabels = map[Kind]hotline.Label{
	Single:   {ZH: "单选", EN: "Single choice"},
	Multiple: {ZH: "多选", EN: "Multiple choice"},
	Scale:    {ZH: "量表", EN: "Scale"},
	Text:     {ZH: "简答（加密保存）", EN: "Short text (sealed)"},
}

// Label names the kind in both languages.
func (k Kind) Label() hotline.Label { return kindLabels[k] }

// Kinds lists the kinds an admin may add.
func Kinds() []Kind { return []Kind{Single, Multiple, Scale, Text} }

// Option is one answer of a choice question; Key is what is stored.
type Option struct {
	Key   string        `json:"key"`
	Label hotline.Label `json:"label"`
}

// Question is one item of a questionnaire. Template questions have fixed
// IDs that the results read; added questions get c1, c2, ...
type Question struct {
	ID      string        `json:"id"`
	Kind    Kind          `json:"kind"`
	Section string        `json:"section"`
	Text    hotline.Label `json:"text"`
	Help    hotline.Label `json:"help,omitempty"`
	Options []Option      `json:"options,omitempty"`
}

// Option returns the option with key, or nil.
func (q *Question) Option(key string) *Option {
	for i := range q.Options {
		if q.Options[i].Key == key {
			return &q.Options[i]
		}
	}
	return nil
}

// Survey is a questionnaire of one school; a district's survey is one copy
// per school sharing a Series.
type Survey struct {
	ID         int64
	UID        string
	SchoolID   int64
	Series     string
	District   string
	ByDistrict bool // one copy of the district's survey, edited by the district only
	Title      hotline.Label
	Questions  []Question
	Waves      []*Wave
	CreatedBy  int64
	CreatedAt  time.Time
}

// Wave is one round of a survey: the March baseline, the June follow-up.
type Wave struct {
	ID     int64
	N      int
	Name   hotline.Label
	Opens  time.Time
	Closes time.Time
}

// State says where a wave is at now.
type State string

// Wave states.
const (
	NotOpen State = "not_open"
	Open    State = "open"
	Closed  State = "closed"
)

// PublishAfter is how long after a wave closes its results are published:
// a margin over the clocks of several nodes, so that no response can be
// accepted by one node after another has shown the results.
const PublishAfter = 10 * time.Minute

// PublishedAt is when the wave's results are published.
func (w *Wave) PublishedAt() time.Time { return w.Closes.Add(PublishAfter) }

// Published reports whether the wave's results are published at now: only
// once the wave has closed, so that the results are computed once, over
// every response, and never change. Results shown while pupils answer
// would change with each response, and the change is that pupil's answers.
func (w *Wave) Published(now time.Time) bool { return !now.Before(w.PublishedAt()) }

// State returns the wave's state at now.
func (w *Wave) State(now time.Time) State {
	switch {
	case now.Before(w.Opens):
		return NotOpen
	case !now.Before(w.Closes):
		return Closed
	}
	return Open
}

// Editable reports whether questions may still change: no wave has opened,
// so every pupil of every wave answers the same questionnaire.
func (s *Survey) Editable(now time.Time) bool {
	for _, w := range s.Waves {
		if !now.Before(w.Opens) {
			return false
		}
	}
	return true
}

// Wave returns the wave numbered n, or nil.
func (s *Survey) Wave(n int) *Wave {
	for _, w := range s.Waves {
		if w.N == n {
			return w
		}
	}
	return nil
}

// Question returns the question with id, or nil.
func (s *Survey) Question(id string) *Question {
	for i := range s.Questions {
		if s.Questions[i].ID == id {
			return &s.Questions[i]
		}
	}
	return nil
}

// Sections are the pages of the questionnaire, in order: a section's
// questions are shown together.
func (s *Survey) Sections() [][]*Question {
	var out [][]*Question
	idx := map[string]int{}
	for i := range s.Questions {
		q := &s.Questions[i]
		j, ok := idx[q.Section]
		if !ok {
			j = len(out)
			idx[q.Section] = j
			out = append(out, nil)
		}
		out[j] = append(out[j], q)
	}
	return out
}

// Answers are a pupil's answers: option keys per choice question, the
// text for a text question (one element).
type Answers map[string][]string

// MaxText bounds a free-text answer, in characters.
const MaxText = 1000

// Validate drops answers to unknown questions and options, keeps one
// option for single and scale questions, and refuses text that is not
// UTF-8 or too long.
func (s *Survey) Validate(a Answers) (Answers, error) {
	out := Answers{}
	for id, vals := range a {
		q := s.Question(id)
		if q == nil {
			continue
		}
		switch q.Kind {
		case Text:
			if len(vals) == 0 {
				continue
			}
			t := strings.TrimSpace(vals[0])
			if !utf8.ValidString(t) {
				return nil, hotline.Errorf(hotline.EINVALID, "文字里有无法识别的字符。", "The text has characters that cannot be read.")
			}
			if utf8.RuneCountInString(t) > MaxText {
				return nil, &hotline.Error{Code: hotline.ETOOLARGE, Message: hotline.Label{
					ZH: fmt.Sprintf("文字太长了：最多 %d 个字。", MaxText), EN: fmt.Sprintf("The text is too long: at most %d characters.", MaxText)}}
			}
			if t != "" {
				out[id] = []string{t}
			}
		default:
			var keep []string
			seen := map[string]bool{}
			for _, v := range vals {
				if q.Option(v) != nil && !seen[v] {
					seen[v] = true
					keep = append(keep, v)
				}
			}
			if len(keep) > 1 && q.Kind != Multiple {
				keep = keep[:1]
			}
			if len(keep) > 0 {
				out[id] = keep
			}
		}
	}
	return out, nil
}

// Merge returns a with b's answers for the questions in ids replacing
// a's (a question of ids that b leaves out was cleared).
func (a Answers) Merge(b Answers, ids []string) Answers {
	out := Answers{}
	for k, v := range a {
		out[k] = v
	}
	for _, id := range ids {
		delete(out, id)
		if v, ok := b[id]; ok {
			out[id] = v
		}
	}
	return out
}

// Has reports whether the answer to id includes key.
func (a Answers) Has(id, key string) bool {
	for _, v := range a[id] {
		if v == key {
			return true
		}
	}
	return false
}

// ClassName shows a class: "初一(3)".
func ClassName(grade, class string) string { return grade + "(" + class + ")" }
