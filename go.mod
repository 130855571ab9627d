module github.com/veilkit/veil

go 1.26

require google.golang.org/protobuf v1.36.12

require (
	github.com/mmcloughlin/avo v0.5.0 // indirect
	golang.org/x/mod v0.6.0 // indirect
	golang.org/x/sys v0.1.0 // indirect
	golang.org/x/tools v0.2.0 // indirect
)
