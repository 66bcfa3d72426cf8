package webchat

// The websocket protocol, version 1. Every frame is a JSON object with
// "v":1 and a "type". The client sends "hello" first, then messages that
// carry a client id ("id"); the server acknowledges each id exactly once
// per outcome and remembers the ids of a session, so a message resent after
// a dropped connection is never applied twice; the ids of applied messages
// are also recorded durably with their effect (Server.Deliveries), so a
// resend after a restart is recognised too. Server frames that belong to
// the conversation carry a sequence number ("seq"); they are kept until
// the client confirms them ("seen", or "last_seq" in a later hello), so a
// reply written while the connection was down is delivered on reconnect.
//
// Client → server:
//
//	hello   {session, school, lang, last_seq, epoch?, page?}  epoch: of the welcome last_seq counts in;
//	        page: the page's own secret, see dialog.Event.PageSecret
//	seen    {seq}
//	text    {id, text, receipt?}
//	choice  {id, data, receipt?}
//	command {id, command, receipt?}
//	resume  {id, receipt}              "I have a code"
//	sync    {id, receipt, after?}      fetch thread messages after a uid
//	photo   binary frame: the JSON header {v, type:"photo", id, receipt?}, "\n", the image bytes
//
// Server → client:
//
//	welcome {limits, epoch}            after hello, before any replay; a new
//	                                   epoch means numbering began again at 1
//	                                   (the server restarted or forgot the
//	                                   session): the page resets its last seq
//	reply   {seq, reply}               a message of the conversation engine
//	msg     {seq, msg}                 a message of the reporter's thread
//	resumed {seq, tip}                 the receipt opened a thread
//	notice  {seq, text:"reply"}        a counselor replied: sync now
//	ack     {seq, id, dup?}            the message with this id is applied
//	error   {id?, code, text, fatal?}  the frame (or message id) was not accepted
const protocolVersion = 1

// Error codes of error frames. Each comes with a text in the session's
// language that the page shows as it is.
const (
	codeBadJSON       = "bad_json"
	codeBadVersion    = "bad_version"
	codeBadType       = "bad_type"
	codeBadID         = "bad_id"
	codeInvalidUTF8   = "invalid_utf8"
	codeTooLarge      = "too_large"
	codeRateLimited   = "rate_limited"
	codeHelloFirst    = "hello_first"
	codeBadSession    = "bad_session"
	codeReceiptInText = "receipt_in_text"
	codeBadReceipt    = "bad_receipt"
	codeBadPhoto      = "bad_photo"
	codeBusy          = "busy"
	codeUnavailable   = "unavailable"
	codeReplaced      = "replaced"
	codeGuesses       = "too_many_guesses"
)

// inFrame is any client frame; fields not used by its type stay empty.
type inFrame struct {
	V       int    `json:"v"`
	Type    string `json:"type"`
	ID      string `json:"id,omitempty"`
	Session string `json:"session,omitempty"`
	School  string `json:"school,omitempty"`
	Lang    string `json:"lang,omitempty"`
	LastSeq int64  `json:"last_seq,omitempty"`
	Seq     int64  `json:"seq,omitempty"`
	Text    string `json:"text,omitempty"`
	Data    string `json:"data,omitempty"`
	Command string `json:"command,omitempty"`
	Receipt string `json:"receipt,omitempty"`
	After   string `json:"after,omitempty"`
	Page    string `json:"page,omitempty"` // hello: the page secret
	Epoch   string `json:"epoch,omitempty"`
}

// outFrame is any server frame.
type outFrame struct {
	V      int        `json:"v"`
	Type   string     `json:"type"`
	Seq    int64      `json:"seq,omitempty"`
	ID     string     `json:"id,omitempty"`
	Dup    bool       `json:"dup,omitempty"`
	Code   string     `json:"code,omitempty"`
	Text   string     `json:"text,omitempty"`
	Fatal  bool       `json:"fatal,omitempty"`
	Reply  *Reply     `json:"reply,omitempty"`
	Msg    *threadMsg `json:"msg,omitempty"`
	Tip    string     `json:"tip,omitempty"`
	Limits *limitsOut `json:"limits,omitempty"`
	Epoch  string     `json:"epoch,omitempty"`
}

// threadMsg is one message of a reporter's thread.
type threadMsg struct {
	UID    string `json:"uid"`
	Author string `json:"author"` // "you", "counselor" or "hotline"
	Text   string `json:"text,omitempty"`
	Photo  string `json:"photo,omitempty"` // data: URL
	At     string `json:"at"`
}

type limitsOut struct {
	TextChars  int   `json:"text_chars"`
	PhotoBytes int64 `json:"photo_bytes"`
}
