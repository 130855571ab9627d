//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
)

// main says how to build the command: it is meant for the browser.
func main() {
	fmt.Fprintln(os.Stderr, "veil-wasm runs in a browser: build it with web/build.sh (GOOS=js GOARCH=wasm go build ./cmd/veil-wasm) and serve web/ with 'veil serve-web'")
	os.Exit(2)
}
