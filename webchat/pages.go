package webchat

import (
	"encoding/json"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"hotline/internal/hotline"
	"hotline/internal/thread"
)

// handleWidget serves widget.js. It runs on the school's pages, so it may be
// cached briefly and fetched cross-origin; it holds nothing secret.
func (s *Server) handleWidget(w http.ResponseWriter, r *http.Request) {
	b, err := fs.ReadFile(s.static, "widget.js")
	if err != nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	w.Write(b)
}

// handleStatic serves the chat page's own scripts, styles and images.
func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	if name == "widget.js" || strings.Contains(name, "/") || strings.HasPrefix(name, ".") {
		http.NotFound(w, r)
		return
	}
	b, err := fs.ReadFile(s.static, name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("X-Content-Type-Options", "nosniff")
	w.Write(b)
}

// handleAllowed tells the widget whether the page it runs on may frame the
// chat. The browser sets Origin; the answer holds nothing secret, so any
// origin may read it.
func (s *Server) handleAllowed(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	type answer struct {
		Allowed bool   `json:"allowed"`
		Chat    string `json:"chat,omitempty"`
		Name    string `json:"name,omitempty"`
		NameEN  string `json:"name_en,omitempty"`
	}
	school, err := s.Schools.SchoolByCode(r.Context(), r.URL.Query().Get("school"))
	if err != nil {
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(answer{})
		return
	}
	allowed := allowedOrigin(school, r.Header.Get("Origin"))
	if allowed {
		s.recordSeen(r.Context(), school, r.Header.Get("Origin"))
	}
	json.NewEncoder(w).Encode(answer{
		Allowed: allowed,
		Chat:    s.PublicURL + "/c/" + school.Code,
		Name:    school.Name,
		NameEN:  school.Settings.NameEN,
	})
}

// handleChat serves the chat page. Framing is allowed only to the school's
// own origins; embedded, the page talks to the widget by postMessage.
func (s *Server) handleChat(w http.ResponseWriter, r *http.Request) {
	lang := langOf(r)
	school := s.school(w, r, lang)
	if school == nil {
		return
	}
	embed := r.URL.Query().Get("embed") == "1"
	fa := frameAncestors(school)
	headerFA := fa
	if r.URL.Query().Get("preview") == "1" {
		// The school admin's setup page (our own origin) shows the chat
		// live: only our origin is added, and only for this page.
		headerFA = strings.TrimSpace("'self' " + fa)
	}
	s.secure(w, headerFA)
	data := struct {
		Available bool
		Parents   string // origins the embedded page may post to (the widget's host)
	}{Available: s.Conversation != nil, Parents: fa}
	s.render(w, http.StatusOK, "chat.html", page{Lang: lang, School: school, Embed: embed, Data: data,
		Title: txtChatTitle.In(lang) + " · " + school.DisplayName(lang)}.fill())
}

// handleAway is the quick-exit page: a neutral page of our own with
// nothing of the hotline on it.
func (s *Server) handleAway(w http.ResponseWriter, r *http.Request) {
	s.secure(w, "")
	s.render(w, http.StatusOK, "away.html", page{Lang: langOf(r)}.fill())
}

// texts is the page vocabulary, keyed for templates and for chat.js.
func texts(lang hotline.Lang) map[string]string {
	m := make(map[string]string, len(uiTexts))
	for k, l := range uiTexts {
		m[k] = l.In(lang)
	}
	return m
}

var txtChatTitle = hotline.Label{ZH: "匿名求助", EN: "Anonymous help"}

// uiTexts are the words of the pages. They are written for a frightened
// 13-year-old on a phone: short, plain, warm.
var uiTexts = map[string]hotline.Label{
	"title":         txtChatTitle,
	"intro":         {ZH: "在这里说出发生的事是安全的。老师会读到你写的内容，但只看到一个代号，不会知道你是谁。", EN: "It is safe to tell us what happened here. Counselors read what you write, but see only a nickname, never who you are."},
	"exit":          {ZH: "快速离开", EN: "Quick exit"},
	"exitHint":      {ZH: "连按两次 Esc 也能离开", EN: "Or press Esc twice"},
	"log":           {ZH: "对话", EN: "Conversation"},
	"message":       {ZH: "写下你想说的话", EN: "Write your message"},
	"send":          {ZH: "发送", EN: "Send"},
	"photo":         {ZH: "发照片", EN: "Send a photo"},
	"photoShort":    {ZH: "照片", EN: "Photo"},
	"haveCode":      {ZH: "我有回执码", EN: "I have a code"},
	"codeLabel":     {ZH: "输入你的回执码", EN: "Enter your receipt code"},
	"codeOpen":      {ZH: "打开我的报告", EN: "Open my report"},
	"codeCancel":    {ZH: "取消", EN: "Cancel"},
	"codeBad":       {ZH: "回执码是 20 个字母和数字，比如 7KQ2M-9XFH3-DPWT8-NABCE。请再核对一遍。", EN: "A receipt code is 20 letters and digits, like 7KQ2M-9XFH3-DPWT8-NABCE. Please check it again."},
	"connecting":    {ZH: "正在连接…", EN: "Connecting…"},
	"connected":     {ZH: "已连接", EN: "Connected"},
	"reconnecting":  {ZH: "连接断了，正在重新连接。你写的内容不会丢。", EN: "Connection lost; reconnecting. Nothing you wrote is lost."},
	"sending":       {ZH: "发送中…", EN: "Sending…"},
	"sent":          {ZH: "已送达", EN: "Delivered"},
	"failed":        {ZH: "没有发送", EN: "Not sent"},
	"you":           thread.SpeakerYou.Label(),
	"counselor":     thread.SpeakerCounselor.Label(),
	"hotline":       thread.SpeakerHotline.Label(),
	"receiptTitle":  {ZH: "你的回执码", EN: "Your receipt code"},
	"receiptWarn":   {ZH: "请把它抄下来或截图，存在只有你能看到的地方。以后回来看老师的回复，要靠它；它丢了，我们也没办法找回。不要告诉别人，也不要发给老师。", EN: "Write it down or take a screenshot, and keep it where only you can see it. It is how you come back to the counselors' replies; if it is lost, we cannot find it again. Don't tell anyone, and don't send it to the counselors."},
	"copy":          {ZH: "复制", EN: "Copy"},
	"copied":        {ZH: "已复制", EN: "Copied"},
	"saveImage":     {ZH: "存为图片", EN: "Save as image"},
	"print":         {ZH: "打印", EN: "Print"},
	"newReply":      {ZH: "老师回复了你", EN: "A counselor replied"},
	"receiptInText": {ZH: "你的消息里包含你的回执码。为了保护你，请不要把回执码发给任何人，包括老师。消息没有发送。", EN: "Your message contains your receipt code. To protect you, never send it to anyone, counselors included. The message was not sent."},
	"unavailable":   {ZH: "网页聊天暂时不可用。你可以用网上信箱留言：", EN: "The web chat is unavailable right now. You can leave a message in the mailbox:"},
	"noscript":      {ZH: "这个聊天需要 JavaScript。不用 JavaScript 也可以在网上信箱留言：", EN: "This chat needs JavaScript. Without it, you can use the mailbox:"},
	"mailbox":       {ZH: "网上信箱", EN: "Mailbox"},
	"status":        {ZH: "查看回复", EN: "Check replies"},
	"danger":        {ZH: "有人现在有危险？马上打 110。", EN: "Someone in danger now? Call 110 at once."},
	"langSwitch":    {ZH: "English", EN: "中文"},
	"tooLarge":      {ZH: "照片太大了（最多 10 MB）。", EN: "The photo is too large (at most 10 MB)."},
	"photoSent":     thread.PhotoMark(),
	"framed":        {ZH: "这个网站不能直接显示聊天窗口。请点下面的链接，在新窗口里打开。", EN: "This website cannot show the chat here. Please open it in a new tab with the link below."},
	"openTab":       {ZH: "在新窗口打开聊天", EN: "Open the chat in a new tab"},
}
