package main

import (
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
)

func writeNoisePNG(w io.Writer, width, height int, seed uint64) {
	r := rand.New(rand.NewPCG(seed, seed+1))
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	for x := 0; x < width; x++ {
		for y := 0; y < height; y++ {
			img.Set(x, y, color.RGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255})
		}
	}
	png.Encode(w, img)
}
