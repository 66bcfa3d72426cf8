package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/pgtest"
	"hotline/internal/sim/telegramsim"
	"hotline/internal/staff"
	"hotline/internal/telegramtest"
)

// fastTelegram shortens the bot's and the relay's timeouts and backoffs so
// that fault-injection tests take seconds. Set it before Open.
func fastTelegram(m *Main) {
	c, w := &m.BotConfig, m.Relay
	c.PollTimeout = 5 * time.Second
	c.CallTimeout = time.Second
	c.RetryBase = 20 * time.Millisecond
	c.SendAttempts = 10
	c.DrainTimeout = 5 * time.Second
	w.SendTimeout = time.Second
	w.BaseBackoff = 20 * time.Millisecond
	w.MaxBackoff = 400 * time.Millisecond
	w.PollInterval = 200 * time.Millisecond
	w.Concurrency = 32
}

// botEnv is a running Main with the bot pointed at a fake Bot API.
type botEnv struct {
	t       testing.TB
	dir     string
	srv     *telegramsim.Server
	webhook string      // webhook mode on this path when set
	logs    *syncBuffer // debug logs of every Main, when set
	m       *Main
	sess    *staff.Session
}

// newBotEnv boots Main on 127.0.0.1:0 with a temp data dir, the demo
// school and the bot against a fake Telegram.
func newBotEnv(tb testing.TB) *botEnv {
	tb.Helper()
	e := &botEnv{t: tb, dir: tb.TempDir(), srv: telegramtest.New(tb, telegramsim.Config{})}
	e.start()
	return e
}

// testWebhookSecret is the webhook secret the bot tests configure.
const testWebhookSecret = "test-webhook-secret_0123456789-abcdefghijklmnop"

// start boots (or reboots) Main on the env's data dir.
func (e *botEnv) start() {
	tb := e.t
	tb.Helper()
	m := MustOpenMain(tb, withDataDir(e.dir), func(m *Main) {
		m.Config.TelegramToken = e.srv.Token()
		m.Config.TelegramAPIURL = e.srv.URL()
		m.Config.TelegramWebhookURL = e.webhook
		if e.webhook != "" {
			// Configured, as several nodes need (and PostgreSQL requires).
			m.Config.TelegramWebhookSecret = testWebhookSecret
		}
		fastTelegram(m)
		if e.logs != nil {
			m.Logger = slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
	})
	if err := seedDemo(context.Background(), m, io.Discard); err != nil {
		tb.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		tb.Fatal(err)
	}
	sess, err := m.Staff.Authenticate(context.Background(), demoUser, demoPassword)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(sess.Wipe)
	e.m, e.sess = m, sess
}

// restart closes Main and boots a new one on the same data dir and fake.
func (e *botEnv) restart() {
	e.t.Helper()
	e.sess.Wipe()
	if err := e.m.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.start()
}

func (e *botEnv) actor() hotline.Actor { return e.sess.Actor() }

// student is a simulated Telegram user talking to the bot.
type student struct {
	t   testing.TB
	ctx context.Context
	u   *telegramsim.User
}

func (e *botEnv) student(ctx context.Context, opts telegramsim.UserOptions) *student {
	return &student{t: e.t, ctx: ctx, u: e.srv.NewUser(opts)}
}

// wait returns the next unread bot message that satisfies pred.
func (s *student) wait(what string, pred func(telegramsim.SentMessage) bool) (telegramsim.SentMessage, error) {
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	m, err := s.u.WaitMessage(ctx, pred)
	if err != nil {
		var got []string
		for _, m := range s.u.Messages() {
			got = append(got, m.PlainText)
		}
		return m, &waitError{what: what, got: got, err: err}
	}
	return m, nil
}

type waitError struct {
	what string
	got  []string
	err  error
}

func (e *waitError) Error() string {
	return "waiting for " + e.what + ": " + e.err.Error() + "; messages so far: " + strings.Join(e.got, " ‖ ")
}

func hasButton(data string) func(telegramsim.SentMessage) bool {
	return func(m telegramsim.SentMessage) bool {
		for _, b := range m.Buttons() {
			if b.CallbackData == data {
				return true
			}
		}
		return false
	}
}

func containsText(sub string) func(telegramsim.SentMessage) bool {
	return func(m telegramsim.SentMessage) bool { return strings.Contains(m.PlainText, sub) }
}

// tap waits for a message with the button data and presses it.
func (s *student) tap(data string) error {
	m, err := s.wait("button "+data, hasButton(data))
	if err != nil {
		return err
	}
	_, err = s.u.PressOn(m, data)
	return err
}

// report goes through a whole report from the deep link to the alias:
// texts, then an optional photo. It returns the submitted message.
func (s *student) report(texts []string, photo []byte) (telegramsim.SentMessage, error) {
	s.u.SendCommand("/start demo")
	for _, data := range []string{"role:victim", "cat:physical"} {
		if err := s.tap(data); err != nil {
			return telegramsim.SentMessage{}, err
		}
	}
	var last telegramsim.SentMessage
	var err error
	for _, t := range texts {
		s.u.SendText(t)
		if last, err = s.wait("text acknowledged", hasButton("done")); err != nil {
			return telegramsim.SentMessage{}, err
		}
	}
	if photo != nil {
		s.u.SendPhoto(photo, "")
		if last, err = s.wait("photo acknowledged", hasButton("done")); err != nil {
			return telegramsim.SentMessage{}, err
		}
	}
	if _, err := s.u.PressOn(last, "done"); err != nil {
		return telegramsim.SentMessage{}, err
	}
	if err := s.tap("danger:no"); err != nil {
		return telegramsim.SentMessage{}, err
	}
	if err := s.tap("send"); err != nil {
		return telegramsim.SentMessage{}, err
	}
	return s.wait("alias", containsText("/status"))
}

// chatCanaries are the byte patterns of a chat id that must never be at
// rest: decimal text and both 64-bit byte orders.
func chatCanaries(id int64) [][]byte {
	return [][]byte{
		[]byte(strconv.FormatInt(id, 10)),
		binary.LittleEndian.AppendUint64(nil, uint64(id)),
		binary.BigEndian.AppendUint64(nil, uint64(id)),
	}
}

// scanDataDir fails the test if any file of the data dir (database, WAL,
// shared memory, key) contains any canary; on PostgreSQL, if any file of
// the data dir (the key) or any value of the database does.
func scanDataDir(t testing.TB, dir string, canaries [][]byte) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	least := 2
	if pgtest.OnPostgres() {
		scanDatabase(t, dir, canaries)
		least = 1
	}
	if len(files) < least {
		t.Fatalf("data dir holds %v", files)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range canaries {
			if len(c) > 0 && bytes.Contains(data, c) {
				t.Errorf("%s contains canary %q", filepath.Base(f), c)
			}
		}
	}
}

// exifJPEG is a JPEG carrying an APP1 Exif segment with a GPS IFD
// (latitude and longitude) and an image description holding canary.
func exifJPEG(t testing.TB, canary string) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 5), 90, 255})
		}
	}
	var plain bytes.Buffer
	if err := jpeg.Encode(&plain, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	// TIFF, big-endian. IFD0 at 8: ImageDescription, GPS IFD pointer.
	be := binary.BigEndian
	var tiff []byte
	tiff = append(tiff, 'M', 'M', 0, 42, 0, 0, 0, 8)
	desc := append([]byte(canary), 0)
	ifd0Len := 2 + 2*12 + 4
	descOff := 8 + ifd0Len
	gpsOff := descOff + len(desc)
	entry := func(b []byte, tag, typ uint16, count, value uint32) []byte {
		b = be.AppendUint16(b, tag)
		b = be.AppendUint16(b, typ)
		b = be.AppendUint32(b, count)
		return be.AppendUint32(b, value)
	}
	tiff = be.AppendUint16(tiff, 2)
	tiff = entry(tiff, 0x010E, 2, uint32(len(desc)), uint32(descOff)) // ImageDescription
	tiff = entry(tiff, 0x8825, 4, 1, uint32(gpsOff))                  // GPSInfo
	tiff = be.AppendUint32(tiff, 0)
	tiff = append(tiff, desc...)
	// GPS IFD: LatitudeRef N, Latitude, LongitudeRef E, Longitude.
	gpsLen := 2 + 4*12 + 4
	latOff := gpsOff + gpsLen
	lonOff := latOff + 24
	tiff = be.AppendUint16(tiff, 4)
	tiff = entry(tiff, 0x0001, 2, 2, uint32('N')<<24)
	tiff = entry(tiff, 0x0002, 5, 3, uint32(latOff))
	tiff = entry(tiff, 0x0003, 2, 2, uint32('E')<<24)
	tiff = entry(tiff, 0x0004, 5, 3, uint32(lonOff))
	tiff = be.AppendUint32(tiff, 0)
	for _, v := range [][2]uint32{{39, 1}, {54, 1}, {2712, 100}, {116, 1}, {23, 1}, {1734, 100}} {
		tiff = be.AppendUint32(tiff, v[0])
		tiff = be.AppendUint32(tiff, v[1])
	}
	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xFF, 0xE1}
	seg = be.AppendUint16(seg, uint16(len(payload)+2))
	seg = append(seg, payload...)
	raw := plain.Bytes()
	out := append([]byte{}, raw[:2]...) // SOI
	out = append(out, seg...)
	return append(out, raw[2:]...)
}
