package districtweb

import (
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"hotline/internal/district"
	"hotline/internal/hotline"
	"hotline/internal/ledger"
	"hotline/internal/staff"
	"hotline/internal/store"
)

// headsPage lists the recorded heads for the district's register.
type headsPage struct {
	*page
	Heads *district.Heads
}

// headPrintPage is one day's head, to print and keep.
type headPrintPage struct {
	*page
	Head *store.LedgerHead
}

// Short is a head's short form for the register.
func (p *page) Short(hash []byte) string { return ledger.Short(hash) }

// Grouped writes a hash in groups of eight hex digits, to copy by hand.
func (p *page) Grouped(hash []byte) string {
	h := hex.EncodeToString(hash)
	var b strings.Builder
	for i := 0; i < len(h); i += 8 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(h[i:min(i+8, len(h))])
	}
	return b.String()
}

// Micros shows a head's recorded time (microseconds), China time.
func (p *page) Micros(us int64) string {
	if us == 0 {
		return "—"
	}
	return time.UnixMicro(us).In(district.Zone).Format("2006-01-02 15:04:05")
}

// handleHeads lists the daily heads and the newest checkpoints.
func (h *Handler) handleHeads(w http.ResponseWriter, r *http.Request, sess *staff.Session) {
	hs, err := h.cfg.District.Heads(r.Context())
	if err != nil {
		h.fail(w, r, err, 0)
		return
	}
	h.pages.Render(w, http.StatusOK, "heads", &headsPage{page: h.newPage(r, sess, "hd_title"), Heads: hs})
}

// handleHeadPrint shows one day's head as a sheet to print for the
// register (the browser's print; the page's print style drops the rest).
func (h *Handler) handleHeadPrint(w http.ResponseWriter, r *http.Request, sess *staff.Session) {
	head, err := h.cfg.District.DailyHead(r.Context(), r.PathValue("day"))
	if hotline.ErrorCode(err) == hotline.ENOTFOUND {
		h.fail(w, r, err, http.StatusNotFound)
		return
	} else if err != nil {
		h.fail(w, r, err, 0)
		return
	}
	p := &headPrintPage{page: h.newPage(r, sess, "hd_print_title"), Head: head}
	p.Title += " " + head.Day
	h.pages.Render(w, http.StatusOK, "headprint", p)
}

// headLabels are the heads pages' words.
var headLabels = map[string]hotline.Label{
	"hd_title":       {ZH: "台账校验值登记", EN: "Ledger heads for the register"},
	"hd_hint":        {ZH: "校验值是台账在某一刻的哈希值。每个校验值一产生就发出服务器（本区平台的推送；每日校验值也发到区教育局的群机器人和邮箱）。请每天把当日校验值抄入纸质登记簿或打印存档：以后如果有人删除或改写了台账，包括最近几分钟的记录，拿登记簿上的校验值运行 hotline ledger verify --head 序号:校验值 就能证明。", EN: "A head is the ledger's hash at one moment. Each one leaves the server as it is made (the district platform's webhook; the daily ones also to the district's group robots and e-mail). Copy each day's head into the paper register, or print and file it: should anyone later delete or rewrite the ledger, even its last minutes, running hotline ledger verify --head SEQ:HASH with the register's head proves it."},
	"hd_daily":       {ZH: "每日校验值", EN: "Daily heads"},
	"hd_checkpoints": {ZH: "最近的校验点（每 100 条记录、每 10 分钟、每次导出证据包）", EN: "Newest checkpoints (every 100 events, every 10 minutes, each evidence export)"},
	"hd_seq":         {ZH: "序号", EN: "Event"},
	"hd_short":       {ZH: "简写（抄入登记簿）", EN: "Short form (for the register)"},
	"hd_full":        {ZH: "完整校验值", EN: "Full hash"},
	"hd_recorded":    {ZH: "记录时间", EN: "Recorded"},
	"hd_print":       {ZH: "打印", EN: "Print"},
	"hd_none":        {ZH: "还没有记录的校验值。", EN: "No head recorded yet."},
	"hd_print_title": {ZH: "台账每日校验值", EN: "Daily ledger head"},
	"hd_print_hint":  {ZH: "用浏览器的“打印”（Ctrl+P）打印本页，签字后存档。", EN: "Print this page with the browser's Print (Ctrl+P), sign it and file it."},
	"hd_verify":      {ZH: "核对方法：hotline ledger verify --head %d:%s", EN: "To check the ledger against it: hotline ledger verify --head %d:%s"},
	"hd_day":         {ZH: "日期", EN: "Day"},
	"hd_signed":      {ZH: "登记人签字", EN: "Recorded by (signature)"},
	"hd_date":        {ZH: "登记日期", EN: "Date recorded"},
	"hd_newest":      {ZH: "最新记录的校验值", EN: "Newest recorded head"},
	"hd_link":        {ZH: "校验值登记与打印", EN: "Heads for the register, to print"},
}

func init() {
	for k, v := range headLabels {
		labels[k] = v
	}
}
