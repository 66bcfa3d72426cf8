package inboxweb

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"hotline/internal/alert"
	"hotline/internal/hotline"
	"hotline/internal/staff"
	"hotline/internal/store"
)

// rotaLine is one line of the rota as the page says it.
type rotaLine struct {
	ID        int64
	Who       string
	Position  int
	Days      hotline.Label
	From, To  int
	Overnight bool // runs through midnight into the next day
}

// describeSlot says a rota line in words.
func describeSlot(sl *store.RotaSlot, dir *staff.Directory) rotaLine {
	who := "—"
	if c := dir.Person(sl.CounselorID); c != nil {
		who = c.DisplayName
		if who == "" {
			who = c.Username
		}
	}
	return rotaLine{ID: sl.ID, Who: who, Position: sl.Position, Days: daysLabel(sl.Weekdays), From: sl.StartHour, To: sl.EndHour, Overnight: sl.EndHour <= sl.StartHour}
}

// daysLabel says a weekday bit set: 每天, 周一至周五, 周末, or a list.
func daysLabel(bits int) hotline.Label {
	switch bits & 0x7f {
	case 0x7f:
		return hotline.Label{ZH: "每天", EN: "every day"}
	case 0x1f:
		return hotline.Label{ZH: "周一至周五", EN: "Mon–Fri"}
	case 0x60:
		return hotline.Label{ZH: "周末", EN: "weekends"}
	}
	var zh, en []string
	for i, l := range staff.Weekdays {
		if bits&(1<<uint(i)) != 0 {
			zh, en = append(zh, l.ZH), append(en, l.EN)
		}
	}
	return hotline.Label{ZH: strings.Join(zh, "、"), EN: strings.Join(en, ", ")}
}

// rotaPerson is a staff member in the rota page's list of duties.
type rotaPerson struct {
	ID       int64
	Name     string
	Fallback bool
	Head     bool
	Channels int // ways to alert them
	Working  int // of which tested and acknowledged
}

// rotaData is the rota page (值班表): who is on call when, what is wrong,
// and the forms to change it. It works without JavaScript and on a phone.
type rotaData struct {
	Zone      string
	Ready     *staff.Readiness
	Lines     []rotaLine
	People    []rotaPerson
	Weekdays  []hotline.Label
	Hours     []int // 0–23, for "from"
	Ends      []int // 1–24, for "to"
	Minutes   int   // the district's minutes between rungs
	Form      rotaForm
	Rungs     []hotline.Label
	DutyNames []string // the district's duty officers, by name
}

type rotaForm struct {
	Who      int64
	Position int
	Days     map[int]bool
	From, To int
}

func (s *Server) rotaPage(r *http.Request, rc *reqCtx) (*page, *rotaData, error) {
	ctx := r.Context()
	dir, err := s.cfg.Staff.Directory(ctx, rc.School.ID)
	if err != nil {
		return nil, nil, err
	}
	ready, err := s.cfg.Staff.Readiness(ctx, rc.School.ID, s.clock.Now())
	if err != nil {
		return nil, nil, err
	}
	minutes, err := s.cfg.Staff.LadderMinutes(ctx, rc.School.District)
	if err != nil {
		return nil, nil, err
	}
	d := &rotaData{Zone: ready.Zone, Ready: ready, Weekdays: staff.Weekdays, Minutes: minutes,
		Form: rotaForm{Position: 1, Days: map[int]bool{0: true, 1: true, 2: true, 3: true, 4: true}, From: 8, To: 18}}
	for h := 0; h < 24; h++ {
		d.Hours, d.Ends = append(d.Hours, h), append(d.Ends, h+1)
	}
	for n := staff.RungFirst; n <= staff.TopRung; n++ {
		d.Rungs = append(d.Rungs, staff.RungLabel(n))
	}
	for _, sl := range dir.Slots() {
		d.Lines = append(d.Lines, describeSlot(sl, dir))
	}
	for _, c := range dir.Staff() {
		rp := rotaPerson{ID: c.ID, Name: c.DisplayName, Fallback: c.OnCall, Head: c.DutyHead}
		if rp.Name == "" {
			rp.Name = c.Username
		}
		for _, t := range dir.Targets(c.ID) {
			rp.Channels++
			if t.Verified() && s.cfg.Staff.Configured(alert.Kind(t.Kind)) {
				rp.Working++
			}
		}
		d.People = append(d.People, rp)
	}
	for _, c := range dir.DutyOfficers() {
		d.DutyNames = append(d.DutyNames, c.DisplayName)
	}
	p := s.newPage(r, rc, rc.Lang)
	p.Title, p.Nav, p.Data = p.T("rota"), "rota", d
	return p, d, nil
}

func (s *Server) handleRota(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	p, _, err := s.rotaPage(r, rc)
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	switch r.URL.Query().Get("done") {
	case "added":
		p.Notice = p.T("rota_added")
	case "deleted":
		p.Notice = p.T("rota_deleted")
	case "zone":
		p.Notice = p.T("saved")
	case "duty":
		p.Notice = p.T("saved")
	}
	s.pages.Render(w, http.StatusOK, "rota", p)
}

// handleRotaAdd adds a line; a refused one re-renders with what was
// chosen and why.
func (s *Server) handleRotaAdd(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, rc, hotline.Errorf(hotline.EINVALID, "表单无效。", "Invalid form."))
		return
	}
	atoi := func(k string) int {
		n, err := strconv.Atoi(r.FormValue(k))
		if err != nil {
			return -1
		}
		return n
	}
	who, _ := strconv.ParseInt(r.FormValue("who"), 10, 64)
	f := rotaForm{Who: who, Position: atoi("position"), Days: map[int]bool{}, From: atoi("from"), To: atoi("to")}
	var days []int
	for _, v := range r.Form["day"] {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 && n <= 6 && !f.Days[n] {
			f.Days[n] = true
			days = append(days, n)
		}
	}
	err := s.cfg.Staff.AddRotaSlot(r.Context(), rc.sess.ts, staff.NewSlot{CounselorID: who, Position: f.Position, Weekdays: days, StartHour: f.From, EndHour: f.To})
	if err != nil {
		if hotline.ErrorCode(err) != hotline.EINVALID {
			s.fail(w, r, rc, err)
			return
		}
		p, d, perr := s.rotaPage(r, rc)
		if perr != nil {
			s.fail(w, r, rc, perr)
			return
		}
		d.Form = f
		p.Error = hotline.ErrorMessage(err, rc.Lang)
		s.pages.Render(w, hotline.HTTPStatus(err), "rota", p)
		return
	}
	redirect(w, r, "/inbox/admin/rota?done=added#lines")
}

func (s *Server) handleRotaDelete(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err := s.cfg.Staff.DeleteRotaSlot(r.Context(), rc.sess.ts, id); err != nil {
		s.fail(w, r, rc, err)
		return
	}
	redirect(w, r, "/inbox/admin/rota?done=deleted#lines")
}

func (s *Server) handleRotaZone(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if err := s.cfg.Staff.SetSchoolZone(r.Context(), rc.sess.ts, r.FormValue("zone")); err != nil {
		if hotline.ErrorCode(err) != hotline.EINVALID {
			s.fail(w, r, rc, err)
			return
		}
		p, _, perr := s.rotaPage(r, rc)
		if perr != nil {
			s.fail(w, r, rc, perr)
			return
		}
		p.Error = hotline.ErrorMessage(err, rc.Lang)
		s.pages.Render(w, hotline.HTTPStatus(err), "rota", p)
		return
	}
	redirect(w, r, "/inbox/admin/rota?done=zone")
}

// handleDuty sets a staff member's duty beside the rota: the school-wide
// fallback ("fallback", also the old "oncall" route) or the head.
func (s *Server) handleDuty(duty string) handler {
	return func(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			s.fail(w, r, rc, hotline.ErrNotFound)
			return
		}
		on := r.FormValue("on") == "1"
		if duty == "head" {
			err = s.cfg.Staff.SetDutyHead(r.Context(), rc.sess.ts, id, on)
		} else {
			err = s.cfg.Staff.SetOnCall(r.Context(), rc.sess.ts, id, on)
		}
		if err != nil {
			s.fail(w, r, rc, err)
			return
		}
		redirect(w, r, "/inbox/admin/rota?done=duty#people")
	}
}

// Hour says an hour of the day as 08:00.
func (p *page) Hour(h int) string { return fmt.Sprintf("%02d:00", h) }

// DayOn reports whether a form has day d chosen.
func (f rotaForm) DayOn(d int) bool { return f.Days[d] }
