package evidence

import (
	"bytes"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/go-pdf/fpdf"

	"hotline/internal/hotline"
	"hotline/internal/poster"
)

// renderPDF writes case.pdf: the case for people, Chinese first and English
// second, with real text (searchable, copyable) in the embedded Noto Sans
// SC subset. A character the font lacks (an emoji, a rare hanzi) shows as
// an empty box, and the PDF says case.json has the exact text.
func renderPDF(doc *CaseDoc, photos []photoFile) ([]byte, error) {
	ttf, err := poster.TrueType()
	if err != nil {
		return nil, err
	}
	p := &pdfDoc{f: fpdf.New("P", "mm", "A4", "")}
	f := p.f
	f.SetCreator("hotline", true)
	f.SetTitle("案件证据包 "+doc.Bundle+" / Case evidence bundle", true)
	f.SetCreationDate(doc.ExportedAt)
	f.SetModificationDate(doc.ExportedAt)
	f.SetCompression(true)
	f.AddUTF8FontFromBytes("noto", "", ttf)
	f.SetMargins(18, 16, 18)
	f.SetAutoPageBreak(true, 18)
	f.AliasNbPages("{nb}")
	f.SetFooterFunc(func() {
		f.SetY(-12)
		f.SetFont("noto", "", 8)
		f.SetTextColor(110, 110, 110)
		f.CellFormat(0, 5, fmt.Sprintf("证据包 %s · 第 %d 页，共 {nb} 页 / Evidence bundle %s · page %d of {nb}", doc.Bundle, f.PageNo(), doc.Bundle, f.PageNo()), "", 0, "C", false, 0, "")
		f.SetTextColor(0, 0, 0)
	})
	f.AddPage()

	p.title("校园欺凌举报 · 案件证据包", "Bullying report · case evidence bundle")
	p.kv("证据包编号", "Bundle", doc.Bundle)
	p.kv("学校", "School", doc.School.Name+nonEmpty(" / ", doc.School.NameEN)+" ("+doc.School.Code+")"+nonEmpty(" · ", doc.School.District))
	p.kv("案件化名", "Case alias", doc.Case.Alias.String())
	p.kv("渠道", "Channel", both(doc.Case.Channel.Label))
	p.kv("报告人身份", "Reporter", both(doc.Case.ReporterRole.Label))
	p.kv("收到时间", "Received", stamp(doc.Case.ReceivedAt))
	p.kv("状态", "Status", both(doc.Case.Status.Label))
	p.kv("情节", "Severity", both(doc.Case.Severity.Label))
	p.kv("类别", "Category", both(doc.Case.Category.Label))
	p.kv("紧急", "Urgent", yesNo(doc.Case.Urgent))
	p.kv("已上报区教育局", "Escalated to the district", yesNo(doc.Case.Escalated))
	p.gap()
	p.kv("导出人", "Exported by", doc.ExportedBy.Name+" ("+roleWords(doc.ExportedBy.Role)+")"+nonEmpty(" · ", doc.ExportedBy.School)+nonEmpty(" · ", doc.ExportedBy.District))
	p.kv("导出时间", "Exported at", stamp(doc.ExportedAt))
	p.kv("导出原因", "Reason", both(doc.Reason.Label)+nonEmpty(" — ", doc.Reason.Reference))
	notes := "不包括 / not included"
	if doc.NotesIncluded {
		notes = "包括 / included"
	}
	p.kv("内部备注", "Internal notes", notes)
	p.gap()
	p.note("本证据包不含报告人的回执码、聊天账号或任何可识别报告人身份的信息：报告人只以案件化名出现。老师以姓名出现。时间均为北京时间（UTC+8）。",
		"This bundle holds no receipt, chat id or anything that identifies the reporter, who appears only as the case alias. Staff appear by name. Times are China time (UTC+8).")

	// 1. Thread.
	p.heading("一、对话记录", "1. Thread")
	if doc.Case.Purged {
		p.note("按学校的保存期限，对话内容已被清除；案件的台账记录仍在。", "The thread's content was purged under the school's retention period; the case's ledger remains.")
	}
	if len(doc.Thread) == 0 {
		p.line("（没有消息）/ (no messages)")
	}
	byName := map[string]*hotline.Photo{}
	for _, ph := range photos {
		byName[ph.name] = ph.photo
	}
	for _, m := range doc.Thread {
		p.small(fmt.Sprintf("[%d] %s · %s · %s", m.N, stamp(m.At), authorWords(m.Author), m.Name))
		if m.Text != "" {
			p.body(m.Text)
		}
		if m.Photo != "" {
			if err := p.image(m.Photo, byName[m.Photo]); err != nil {
				return nil, err
			}
		}
		p.gapSmall()
	}
	if doc.NotesLeftOut > 0 {
		p.note(fmt.Sprintf("另有 %d 条内部备注未包括在内（导出人选择）。", doc.NotesLeftOut), fmt.Sprintf("%d internal notes are left out (the exporter's choice).", doc.NotesLeftOut))
	}

	// 2. Status history.
	p.heading("二、状态变化", "2. Status history")
	if len(doc.StatusHistory) == 0 {
		p.line("（没有变化）/ (no changes)")
	}
	for _, c := range doc.StatusHistory {
		p.line(fmt.Sprintf("%s  %s%s", stamp(c.At), c.Words.ZH, by(c.By)))
		p.small("        " + c.Words.EN)
	}

	// 3. Handling steps.
	p.heading("三、处置措施", "3. Handling steps")
	for _, st := range doc.Steps {
		mark := "□"
		if st.Done {
			mark = "√"
		}
		line := fmt.Sprintf("%s %s / %s", mark, st.Step.Label.ZH, st.Step.Label.EN)
		if st.At != nil {
			line += " · " + stamp(*st.At) + by(st.By)
		}
		if st.Owed {
			line += " · 按情节应做 / called for by the severity"
		}
		p.line(line)
	}

	// 4. Deadlines.
	p.heading("四、处理时限", "4. Deadlines")
	for _, d := range doc.Deadlines {
		line := fmt.Sprintf("%s / %s：截止 due %s", d.Kind.Label.ZH, d.Kind.Label.EN, stamp(d.Due))
		if d.DoneAt != nil {
			line += "，完成 done " + stamp(*d.DoneAt)
		}
		p.line(line + " — " + outcomeWords(d.Outcome))
	}
	if len(doc.Misses) > 0 {
		p.line("系统记录的超时 / Missed deadlines the system recorded:")
		for _, ms := range doc.Misses {
			p.line(fmt.Sprintf("  × %s / %s：截止 due %s，记录于 recorded %s", ms.Kind.Label.ZH, ms.Kind.Label.EN, stamp(ms.Due), stamp(ms.RecordedAt)))
		}
	}

	// 5. The ledger.
	p.heading("五、台账记录", "5. Ledger events")
	p.note("每条记录的哈希值都连在台账的哈希链上；完整的哈希值和校验方法见 ledger.jsonl 和 README.txt。",
		"Each event's hash is a link of the ledger's hash chain; the full hashes and how to check them are in ledger.jsonl and README.txt.")
	for _, e := range doc.Events {
		p.line(fmt.Sprintf("#%d  %s  %s%s", e.Seq, stamp(e.At), e.Words.ZH, by(e.Actor)))
		p.small(fmt.Sprintf("        %s · %s…", e.Words.EN, e.Hash[:16]))
	}

	// 6. How to check it.
	p.heading("六、如何校验", "6. How to check this bundle")
	p.body("在任何电脑上（无需数据库或密钥）运行 / On any computer, without the database or a key, run:")
	p.mono("hotline ledger verify-bundle hotline-evidence-" + doc.Bundle + ".zip")
	p.body("它核对每个文件（包括本 PDF）的 SHA-256，以及本案的台账记录是否连到区教育局持有的校验值。导出本身也记入了台账和审计记录。")
	p.body("It checks every file's SHA-256 (this PDF's too) and that the case's ledger events chain to the head the district holds. The export itself is recorded in the ledger and the audit trail.")
	if p.missing {
		p.note("部分字符（如表情符号）在本 PDF 中显示为 □；case.json 中是原文。", "Some characters (such as emoji) show as □ in this PDF; case.json has the exact text.")
	}

	var out bytes.Buffer
	if err := f.Output(&out); err != nil {
		return nil, fmt.Errorf("evidence pdf: %w", err)
	}
	return out.Bytes(), nil
}

// pdfDoc writes the PDF's blocks.
type pdfDoc struct {
	f       *fpdf.Fpdf
	missing bool // a character was replaced by a box
}

func (p *pdfDoc) title(zh, en string) {
	p.f.SetFont("noto", "", 17)
	p.f.MultiCell(0, 8, p.clean(zh), "", "L", false)
	p.f.SetFont("noto", "", 11)
	p.f.SetTextColor(80, 80, 80)
	p.f.MultiCell(0, 6, p.clean(en), "", "L", false)
	p.f.SetTextColor(0, 0, 0)
	p.f.Ln(3)
}

func (p *pdfDoc) heading(zh, en string) {
	p.f.Ln(4)
	p.f.SetFont("noto", "", 13)
	p.f.MultiCell(0, 7, p.clean(zh+"  "+en), "B", "L", false)
	p.f.Ln(2)
}

// kv writes a label and its value beside it; both wrap within their
// column (the value's lines start under its first, not under the label).
func (p *pdfDoc) kv(zh, en, value string) {
	const labelW = 58
	left, _, _, _ := p.f.GetMargins()
	y := p.f.GetY()
	p.f.SetFont("noto", "", 9)
	p.f.SetTextColor(90, 90, 90)
	p.f.SetRightMargin(210 - left - labelW + 2)
	p.f.MultiCell(labelW-2, 5.5, p.clean(zh+" / "+en), "", "L", false)
	p.f.SetRightMargin(18)
	below := p.f.GetY()
	p.f.SetTextColor(0, 0, 0)
	p.f.SetFont("noto", "", 10)
	p.f.SetLeftMargin(left + labelW)
	p.f.SetXY(left+labelW, y)
	p.f.MultiCell(0, 5.5, p.clean(value), "", "L", false)
	p.f.SetLeftMargin(left)
	p.f.SetY(max(below, p.f.GetY()))
}

func (p *pdfDoc) body(s string) {
	p.f.SetFont("noto", "", 10.5)
	p.f.MultiCell(0, 5.6, p.clean(s), "", "L", false)
}

func (p *pdfDoc) line(s string) {
	p.f.SetFont("noto", "", 9.5)
	p.f.MultiCell(0, 5, p.clean(s), "", "L", false)
}

func (p *pdfDoc) small(s string) {
	p.f.SetFont("noto", "", 8.5)
	p.f.SetTextColor(90, 90, 90)
	p.f.MultiCell(0, 4.5, p.clean(s), "", "L", false)
	p.f.SetTextColor(0, 0, 0)
}

func (p *pdfDoc) mono(s string) {
	p.f.SetFont("noto", "", 9.5)
	p.f.SetFillColor(240, 240, 240)
	p.f.MultiCell(0, 6, p.clean(s), "", "L", true)
}

func (p *pdfDoc) note(zh, en string) {
	p.f.SetFont("noto", "", 8.5)
	p.f.SetTextColor(60, 60, 60)
	p.f.MultiCell(0, 4.6, p.clean(zh), "", "L", false)
	p.f.MultiCell(0, 4.6, p.clean(en), "", "L", false)
	p.f.SetTextColor(0, 0, 0)
	p.f.Ln(1)
}

func (p *pdfDoc) gap()      { p.f.Ln(3) }
func (p *pdfDoc) gapSmall() { p.f.Ln(1.5) }

// image places a photo, on a new page when it does not fit, with its file
// name under it.
func (p *pdfDoc) image(name string, ph *hotline.Photo) error {
	if ph == nil {
		return nil
	}
	kind := "JPG"
	if ph.Type == "image/png" {
		kind = "PNG"
	}
	opt := fpdf.ImageOptions{ImageType: kind, ReadDpi: false}
	info := p.f.RegisterImageOptionsReader(name, opt, bytes.NewReader(ph.Data))
	if err := p.f.Error(); err != nil {
		return fmt.Errorf("evidence pdf: photo %s: %w", name, err)
	}
	w, h := info.Width(), info.Height() // in mm at 72 dpi
	if w <= 0 || h <= 0 {
		return nil
	}
	// At most 110 × 120 mm, and never beyond its size at 96 dpi (a small
	// photo is not blown up into blocks).
	scale := min(110/w, 120/h, 72.0/96)
	w, h = w*scale, h*scale
	_, pageH := p.f.GetPageSize()
	_, _, _, bottom := p.f.GetMargins()
	if p.f.GetY()+h+6 > pageH-bottom {
		p.f.AddPage()
	}
	x, y := p.f.GetX(), p.f.GetY()
	p.f.ImageOptions(name, x, y, w, h, false, opt, 0, "")
	p.f.SetY(y + h + 1)
	p.small("照片 / photo: " + name)
	return nil
}

// clean makes text printable: characters beyond the font's plane (emoji)
// become a box (fpdf refuses them), control characters a space.
func (p *pdfDoc) clean(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteRune(r)
		case r > 0xFFFF || r == unicode.ReplacementChar:
			b.WriteRune('□')
			p.missing = true
		case unicode.IsControl(r):
			b.WriteRune(' ')
		default:
			if !poster.HasGlyph(r) && !unicode.IsSpace(r) {
				p.missing = true
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// stamp shows a time in China time in the PDF (the JSON keeps UTC).
func stamp(t time.Time) string { return t.In(hotline.ChinaTime).Format("2006-01-02 15:04:05") }

func both(l Words) string {
	if l.ZH == l.EN || l.EN == "" {
		return l.ZH
	}
	return l.ZH + " / " + l.EN
}

func nonEmpty(sep, s string) string {
	if s == "" {
		return ""
	}
	return sep + s
}

func yesNo(b bool) string {
	if b {
		return "是 / yes"
	}
	return "否 / no"
}

func by(name string) string {
	if name == "" {
		return ""
	}
	return " · " + name
}

func roleWords(r string) string { return both(words(hotline.Role(r).Label())) }

func authorWords(a string) string {
	switch hotline.AuthorKind(a) {
	case hotline.AuthorReporter:
		return "报告人 / Reporter"
	case hotline.AuthorCounselor:
		return "老师 / Staff"
	case hotline.AuthorNote:
		return "内部备注 / Internal note"
	}
	return "系统 / System"
}

func outcomeWords(o string) string {
	switch o {
	case OutcomeMet:
		return "按时 / met"
	case OutcomeMissed:
		return "超时 / missed"
	case OutcomeNone:
		return "案件已办结，无需 / not owed (closed)"
	}
	return "未到期 / open"
}
