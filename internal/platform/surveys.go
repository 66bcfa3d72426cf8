package platform

import (
	"context"
	"encoding/json"
	"fmt"

	"hotline/internal/hotline"
	"hotline/internal/store"
	"hotline/internal/survey"
)

// AnnounceWaves queues survey.closed for the district questionnaire waves
// whose results were published since the last pass (a wave closes by the
// clock, so a scan finds it; each is announced once, across nodes). The
// figures are those the district's page shows, suppressed the same way,
// at the district's and the schools' level only. A school's own
// questionnaire is the school's: the district's platform does not hear of
// it.
func (w *Worker) AnnounceWaves(ctx context.Context) error {
	if w.Surveys == nil {
		return nil
	}
	now := w.DB.Clock.Now()
	waves, err := w.DB.UnannouncedWaves(ctx, now.Add(-survey.PublishAfter), 20)
	if err != nil {
		return err
	}
	for _, cw := range waves {
		var body []byte
		var eps []*store.WebhookEndpoint
		if cw.ByDistrict && cw.District != "" {
			if eps, err = w.DB.WebhookEndpoints(ctx, cw.District); err != nil {
				return err
			}
		}
		if len(eps) > 0 {
			p, err := w.surveyPayload(ctx, cw)
			if err != nil {
				return err
			}
			if p != nil {
				if body, err = json.Marshal(p); err != nil {
					return err
				}
			}
		}
		err = w.DB.Update(ctx, func(tx *store.Tx) error {
			fresh, err := tx.AnnounceWave(cw.Series, cw.Wave)
			if err != nil || !fresh || body == nil {
				return err
			}
			// The payload's head is the ledger's at the announcement.
			var p Payload
			if err := json.Unmarshal(body, &p); err != nil {
				return err
			}
			if seq, hash, err := tx.NewestEvent(); err != nil {
				return err
			} else if seq > 0 {
				p.Ledger = ledgerOf(seq, hash)
			}
			return (&Hooks{Wake: w.Wake}).queue(tx, &p, eps)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// surveyPayload composes a wave's survey.closed event, or nil when the
// wave has no published results (a survey since deleted).
func (w *Worker) surveyPayload(ctx context.Context, cw *store.ClosedWave) (*Payload, error) {
	// The district reads its series' results as its officers do.
	asDistrict := &hotline.Counselor{Role: hotline.RoleDistrict, District: cw.District}
	res, err := w.Surveys.Results(ctx, asDistrict, cw.SurveyUID, nil)
	if hotline.ErrorCode(err) == hotline.ENOTFOUND || hotline.ErrorCode(err) == hotline.EFORBIDDEN {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var wr *survey.WaveResult
	for _, r := range res.Waves {
		if r.Wave.N == cw.Wave {
			wr = r
		}
	}
	if wr == nil || !wr.Published || wr.Root == nil {
		return nil, nil
	}
	sv := &Survey{ID: cw.Series, Title: words(res.Survey.Title), Wave: cw.Wave, Name: words(wr.Wave.Name), Closes: wr.Wave.Closes.UTC()}
	codes := map[int64]string{}
	schools, err := w.DB.Schools(ctx, cw.District)
	if err != nil {
		return nil, err
	}
	for _, sc := range schools {
		codes[sc.ID] = sc.Code
	}
	unit := func(u *survey.Unit) SurveyUnit {
		su := SurveyUnit{Level: u.Level, Name: u.Name, School: codes[u.SchoolID], Hidden: u.N == nil || u.N.Hidden}
		if !su.Hidden {
			n := u.N.K
			su.Respondents = &n
		}
		for _, ind := range res.Indicators {
			if ind.Group == "hot" {
				continue // the place × time heat map is the page's, too fine for a feed
			}
			c := u.Cells[ind.Key]
			if c == nil {
				continue
			}
			iv := Indicator{Key: ind.Key, Label: words(ind.Label), Hidden: c.Hidden || su.Hidden}
			if !iv.Hidden {
				k, b := c.K, c.Base
				iv.Count, iv.Base = &k, &b
			}
			su.Indicators = append(su.Indicators, iv)
		}
		return su
	}
	sv.Units = append(sv.Units, unit(wr.Root))
	for _, c := range wr.Root.Children {
		if c.Level == "school" {
			sv.Units = append(sv.Units, unit(c))
		}
	}
	return &Payload{ID: fmt.Sprintf("survey-%s-%d", cw.Series, cw.Wave), Event: KindSurveyClosed, At: wr.Wave.PublishedAt().UTC(), District: cw.District, Survey: sv}, nil
}
