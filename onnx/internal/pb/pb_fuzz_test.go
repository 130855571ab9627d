package pb

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func FuzzDecodeModel(f *testing.F) {
	f.Add(testModel())
	f.Add([]byte(msg{}.bytes(7, nestedGraph(3))))
	for _, path := range stagedModels(f) {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
		f.Add(b[:len(b)/3])
		f.Add(b[:min(len(b), 4096)])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeModel(b)
		if err != nil {
			if m != nil {
				t.Fatalf("DecodeModel returned a model and error %v", err)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("DecodeModel error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if m.Graph == nil {
			t.Fatal("DecodeModel returned no graph and no error")
		}
		for _, tn := range m.Graph.Initializers {
			readTensor(t, tn)
		}
	})
}

func FuzzDecodeTensor(f *testing.F) {
	f.Add([]byte(msg{}.str(8, "w").varint(1, 2).varint(2, uint64(Float)).bytes(9, le32(1, 2))))
	f.Add([]byte(msg{}.bytes(1, packedVarints(1, 2)).varint(2, uint64(Int64)).bytes(7, packedVarints(-1, 1))))
	f.Add([]byte(msg{}.varint(1, 1).varint(2, uint64(Float16)).varint(5, 0x3c00)))
	f.Add([]byte(msg{}.varint(1, 0).varint(2, uint64(Float))))
	f.Add([]byte(msg{}.varint(2, uint64(Double)).double(10, 1)))
	f.Add([]byte(msg{}.varint(2, uint64(Uint64)).varint(11, 1)))
	conformance, _ := filepath.Glob("../../../../shared/onnx-conformance/pytorch-converted/test_Conv2d/test_data_set_0/*.pb")
	for _, path := range conformance {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tn, err := DecodeTensor(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("DecodeTensor error %v does not wrap ErrMalformed", err)
			}
			return
		}
		readTensor(t, tn)
	})
}

// readTensor reads the data of tn every way, checking that the errors wrap
// the package's sentinels and that results have the advertised length.
func readTensor(t *testing.T, tn *Tensor) {
	n, err := tn.NumElements()
	if err != nil && !errors.Is(err, ErrMalformed) {
		t.Fatalf("NumElements error %v does not wrap ErrMalformed", err)
	}
	check := func(what string, got int, err error) {
		switch {
		case err == nil && int64(got) != n:
			t.Fatalf("%s returned %d elements, NumElements = %d", what, got, n)
		case err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported):
			t.Fatalf("%s error %v wraps neither ErrMalformed nor ErrUnsupported", what, err)
		}
	}
	f, err := tn.Float32s()
	check("Float32s", len(f), err)
	i, err := tn.Int64s()
	check("Int64s", len(i), err)
}
