//go:build !amd64 || purego

package kern

func maxRowAsm(o []float32, rows [][]float32, kw, s, d int) bool { return false }

func avgRowAsm(o []float32, rows [][]float32, kw, s, d int, scale float32) bool { return false }
