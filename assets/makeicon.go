//go:build ignore

// Makeicon draws assets/icon.png (512x512) from assets/icon.svg:
//
//	go run assets/makeicon.go
package main

import (
	"bytes"
	"image"
	"image/png"
	"log"
	"os"

	"github.com/fyne-io/oksvg"
	"github.com/srwiley/rasterx"
)

const size = 512

func main() {
	svg, err := os.ReadFile("assets/icon.svg")
	if err != nil {
		log.Fatal(err)
	}
	icon, err := oksvg.ReadIconStream(bytes.NewReader(svg))
	if err != nil {
		log.Fatal(err)
	}
	icon.SetTarget(0, 0, size, size)
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	icon.Draw(rasterx.NewDasher(size, size, rasterx.NewScannerGV(size, size, img, img.Bounds())), 1)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("assets/icon.png", buf.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
