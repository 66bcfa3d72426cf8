package evidence

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/store"
)

// photoFile is a photo of the thread and its name in the bundle.
type photoFile struct {
	name  string
	photo *hotline.Photo
}

func labelled[T interface {
	~string
	Label() hotline.Label
}](v T) Labelled {
	return Labelled{Value: string(v), Label: words(v.Label())}
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// systemName is how the system signs the thread.
var systemName = hotline.Label{ZH: "系统", EN: "System"}

// compose builds case.json's document and picks the photos.
func compose(m *Manifest, tip *hotline.Tip, school *hotline.School, msgs []*hotline.Message, events []*hotline.Event,
	misses []*store.DeadlineMiss, names map[int64]string, now time.Time) (*CaseDoc, []photoFile) {
	doc := &CaseDoc{Format: FormatCase, Bundle: m.Bundle, ExportedAt: m.ExportedAt, ExportedBy: m.ExportedBy, Reason: m.Reason, NotesIncluded: m.NotesIncluded,
		School: SchoolDoc{Code: school.Code, Name: school.Name, NameEN: school.Settings.NameEN, District: school.District},
		Case: CaseMeta{ID: tip.UID, Alias: aliasWords(tip.Alias), Channel: labelled(tip.Channel), ReporterRole: labelled(tip.Role), Status: labelled(tip.Status),
			Severity: labelled(tip.Severity), Category: labelled(tip.Category), Urgent: tip.Urgent, Escalated: tip.Escalated,
			ReceivedAt: tip.CreatedAt.UTC(), AcknowledgedAt: timePtr(tip.AcknowledgedAt), FirstReplyAt: timePtr(tip.FirstReplyAt),
			ResolvedAt: timePtr(tip.ResolvedAt), Purged: tip.Purged}}
	if !tip.Category.Valid() {
		doc.Case.Category.Label = Words{ZH: "未分类", EN: "Uncategorized"}
	}

	// The thread.
	var photos []photoFile
	for _, msg := range msgs {
		if msg.Author == hotline.AuthorNote && !m.NotesIncluded {
			doc.NotesLeftOut++
			continue
		}
		out := Message{N: len(doc.Thread) + 1, At: msg.CreatedAt.UTC(), Author: string(msg.Author), Text: msg.Body}
		switch msg.Author {
		case hotline.AuthorReporter:
			out.Name = tip.Alias.String()
		case hotline.AuthorSystem:
			out.Name = systemName.ZH + " / " + systemName.EN
		default:
			out.Name = names[msg.CounselorID]
		}
		if msg.Photo != nil && len(msg.Photo.Data) > 0 {
			ext := ".jpg"
			if msg.Photo.Type == "image/png" {
				ext = ".png"
			}
			out.Photo = fmt.Sprintf("%s%02d%s", photoDir, len(photos)+1, ext)
			photos = append(photos, photoFile{out.Photo, msg.Photo})
		}
		doc.Thread = append(doc.Thread, out)
	}

	// The ledger in words; status history; when each step was recorded.
	stepAt := map[hotline.Step]*hotline.Event{}
	var assessedAt, escalatedAt time.Time
	for _, ev := range events {
		doc.Events = append(doc.Events, EventDoc{Seq: ev.Seq, At: ev.At.UTC(), Kind: string(ev.Kind), Detail: ev.Detail, Actor: names[ev.ActorID],
			Words: describe(ev, names), Hash: fmt.Sprintf("%x", ev.Hash)})
		switch ev.Kind {
		case hotline.EventStatusChanged, hotline.EventAcknowledged, hotline.EventResolved, hotline.EventClosed, hotline.EventReopened,
			hotline.EventSeverityChanged, hotline.EventCategoryChanged, hotline.EventUrgencyChanged:
			doc.StatusHistory = append(doc.StatusHistory, Change{Seq: ev.Seq, At: ev.At.UTC(), Kind: string(ev.Kind), Words: describe(ev, names), By: names[ev.ActorID]})
		}
		if ev.Kind == hotline.EventSeverityChanged && assessedAt.IsZero() {
			if to := detailValue(ev.Detail, "to"); to != "" && to != string(hotline.SeverityUnassessed) {
				assessedAt = ev.At
			}
		}
		if st := hotline.Step(detailValue(ev.Detail, "step")); st.Valid() {
			stepAt[st] = ev
		}
		if ev.Kind == hotline.EventEscalated {
			stepAt[hotline.StepDistrictReport] = ev
			if escalatedAt.IsZero() {
				escalatedAt = ev.At
			}
		}
	}

	// Handling steps: what the severity calls for, the two every case
	// records, and any other done.
	owed := hotline.StepsFor(tip.Severity)
	steps := slices.Clone(owed)
	for _, st := range hotline.Steps {
		if !slices.Contains(steps, st) && (st == hotline.StepPoliceReferral || st == hotline.StepCounseling || tip.Steps[st]) {
			steps = append(steps, st)
		}
	}
	for _, st := range steps {
		sd := StepDoc{Step: labelled(st), Done: tip.Steps[st], Owed: slices.Contains(owed, st)}
		if ev := stepAt[st]; ev != nil {
			sd.At, sd.By = timePtr(ev.At), names[ev.ActorID]
		}
		doc.Steps = append(doc.Steps, sd)
	}

	// Deadlines: each duty of the case, met, missed or open; then every
	// miss the server recorded when it happened.
	closed := !tip.Status.Open()
	add := func(kind hotline.DeadlineKind, due, done time.Time) {
		if due.IsZero() {
			return
		}
		d := DeadlineDoc{Kind: labelled(kind), Due: due.UTC(), DoneAt: timePtr(done)}
		switch {
		case !done.IsZero() && !done.After(due):
			d.Outcome = OutcomeMet
		case !done.IsZero():
			d.Outcome = OutcomeMissed
		case closed && !tip.ResolvedAt.IsZero() && !tip.ResolvedAt.After(due):
			d.Outcome = OutcomeNone
		case now.After(due):
			d.Outcome = OutcomeMissed
		default:
			d.Outcome = OutcomeOpen
		}
		doc.Deadlines = append(doc.Deadlines, d)
	}
	add(hotline.DeadlineAck, tip.AckDue, tip.AcknowledgedAt)
	add(hotline.DeadlineReply, tip.ReplyDue, tip.FirstReplyAt)
	add(hotline.DeadlineAssess, tip.AssessDue, assessedAt)
	if !tip.DistrictDue.IsZero() {
		var done time.Time
		if tip.Steps[hotline.StepDistrictReport] {
			done = escalatedAt
			if ev := stepAt[hotline.StepDistrictReport]; ev != nil {
				done = ev.At
			}
		}
		add(hotline.DeadlineDistrict, tip.DistrictDue, done)
	}
	if !closed {
		add(hotline.DeadlineProgress, tip.ProgressDue, time.Time{})
	}
	for _, ms := range misses {
		doc.Misses = append(doc.Misses, MissDoc{Kind: labelled(hotline.DeadlineKind(ms.Kind)), Due: ms.Due.UTC(), RecordedAt: ms.RecordedAt.UTC()})
	}
	return doc, photos
}

// readme is README.txt: what the bundle is and how to check it.
func readme(m *Manifest) string {
	var b strings.Builder
	fmt.Fprintf(&b, `校园欺凌举报热线 · 案件证据包 %s
Bullying report hotline · case evidence bundle %s

案件 / case: %s, %s (%s)
导出 / exported: %s (UTC) by %s (%s)
原因 / reason: %s / %s%s

本文件包含 / This file holds:
  case.pdf       案件记录（中文在前，英文在后）/ the case for people (Chinese, then English)
  case.json      同样的内容，供程序读取 / the same, for machines
  photos/        对话中的照片 / the photos of the thread
  ledger.jsonl   本案件的台账记录，以及从本案第一条记录到本证据包校验值的哈希链
                 / the case's ledger events and the hash chain from its first one to the bundle's head
  manifest.json  每个文件的 SHA-256、导出人、时间和原因 / each file's SHA-256, who exported it, when and why

它不包含报告人的回执码、聊天账号或任何能识别报告人的信息：报告人只以化名出现。
It holds no receipt, chat id or anything that identifies the reporter, who appears as the case alias only.

如何校验 / How to check it (offline, on any computer, no database, no key):

  hotline ledger verify-bundle %s

它核对每个文件的 SHA-256、本案每条台账记录，以及哈希链是否一直连到本证据包的校验值：
It checks every file's SHA-256, each of the case's ledger events, and that the hash chain runs to the bundle's head:

  第 %d 条 / event %d
  %s
  简写 / short form: %s

这个校验值在导出时已发出服务器（区教育局的平台和台账页面）。请向区教育局核对：
This head left the server when the bundle was made (to the district's platform and ledger page): ask the district to confirm it:

  hotline ledger verify-bundle %s --head %d:%s

其他案件的记录只以摘要出现，不含其学校、化名、类别、时间或经办人。
Other cases' events appear only as digests: none of their schools, aliases, kinds, times or staff.
`, m.Bundle, m.Bundle, m.Case.Alias.String(), m.Case.School, m.Case.SchoolCode, m.ExportedAt.Format("2006-01-02 15:04:05"), m.ExportedBy.Name, m.ExportedBy.Role,
		m.Reason.Label.ZH, m.Reason.Label.EN, refLine(m.Reason.Reference), "hotline-evidence-"+m.Bundle+".zip",
		m.Ledger.Head.Seq, m.Ledger.Head.Seq, m.Ledger.Head.Hash, m.Ledger.Head.Short, "hotline-evidence-"+m.Bundle+".zip", m.Ledger.Head.Seq, m.Ledger.Head.Short)
	return b.String()
}

func refLine(ref string) string {
	if ref == "" {
		return ""
	}
	return " — " + ref
}
