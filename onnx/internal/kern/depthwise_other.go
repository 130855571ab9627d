//go:build !amd64 || purego

package kern

func dwPlaneAsm(p *Conv2DParams, out, src []float32, wp int, w []float32, ca *clampArgs) bool {
	return false
}

func dwPrepare(p *Conv2DParams, s *dwScratch) bool { return false }

func dwPlaneDirect(p *Conv2DParams, out, in, w []float32, ca *clampArgs, s *dwScratch) {
	panic("kern: no direct depthwise kernel")
}

type dwGeom struct{}

type flatCache struct{}
