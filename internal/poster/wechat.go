package poster

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // 公众平台 offers JPEG; an admin may have kept a PNG or GIF
	_ "image/jpeg"
	"image/png"

	xdraw "golang.org/x/image/draw"

	"hotline/internal/hotline"
)

// WechatCode is a WeChat official account's QR code, the image 公众平台
// gives to download (设置与开发 → 公众号设置 → 二维码), for the poster: a
// pupil scans it in WeChat and follows the account. It is read once, when
// the server starts, from a file the operator names.
type WechatCode struct {
	img image.Image
	png []byte
}

// Limits of a QR code image: 公众平台's largest download is 1280 px
// (about 300 KB); anything far beyond is not a QR code.
const (
	MaxWechatQRBytes = 4 << 20
	maxWechatQRSide  = 4096
)

// ReadWechatQR checks and decodes a QR code image (PNG, JPEG or GIF).
// The pixels are kept; the file's metadata is not: the image served and
// printed is re-encoded.
func ReadWechatQR(data []byte) (*WechatCode, error) {
	if len(data) == 0 {
		return nil, errors.New("poster: the WeChat QR code image is empty")
	}
	if len(data) > MaxWechatQRBytes {
		return nil, fmt.Errorf("poster: the WeChat QR code image is larger than %d MiB", MaxWechatQRBytes>>20)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, errors.New("poster: the WeChat QR code is not a PNG, JPEG or GIF image")
	}
	if cfg.Width < 21 || cfg.Height < 21 || cfg.Width > maxWechatQRSide || cfg.Height > maxWechatQRSide {
		return nil, fmt.Errorf("poster: the WeChat QR code image is %d×%d px: want 21 to %d px a side", cfg.Width, cfg.Height, maxWechatQRSide)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, errors.New("poster: the WeChat QR code image does not decode")
	}
	var out bytes.Buffer
	if err := png.Encode(&out, img); err != nil {
		return nil, err
	}
	return &WechatCode{img: img, png: out.Bytes()}, nil
}

// PNG returns the QR code re-encoded as PNG, to serve.
func (c *WechatCode) PNG() []byte { return c.png }

// Image returns the decoded QR code.
func (c *WechatCode) Image() image.Image { return c.img }

// Wechat captions the WeChat account's QR code, and WechatHow tells what
// to do with it (there is no address to print: the code is the way in).
var (
	Wechat    = hotline.Label{ZH: "微信公众号", EN: "WeChat"}
	WechatHow = hotline.Label{ZH: "微信扫码关注后点「我要报告」", EN: "Scan in WeChat, follow, tap 我要报告"}
)

// drawFitted draws src scaled to fit the square of side size at at,
// centred, on white: a QR code keeps its quiet zone and proportions.
func drawFitted(dst xdraw.Image, src image.Image, at image.Point, size int) {
	b := src.Bounds()
	w, h := size, size
	if b.Dx() > b.Dy() {
		h = size * b.Dy() / b.Dx()
	} else {
		w = size * b.Dx() / b.Dy()
	}
	off := at.Add(image.Pt((size-w)/2, (size-h)/2))
	r := image.Rectangle{off, off.Add(image.Pt(w, h))}
	// Catmull-Rom keeps the modules' edges sharp when a 1280 px download
	// shrinks to a few centimetres, where nearest-neighbour would alias.
	xdraw.CatmullRom.Scale(dst, r, src, b, xdraw.Over, nil)
}
