package veil

import (
	"fmt"
	"image"

	"github.com/veilkit/veil/mask"
)

// DefaultMaskScale is the default mask-scale: masks at the image's size.
const DefaultMaskScale = 100

// flags are the instance mask's type flags of the classes.
var flags = map[Class]uint8{
	Person:       mask.FlagPerson,
	LicensePlate: mask.FlagLicensePlate,
	Face:         mask.FlagFace,
	Vehicle:      mask.FlagVehicle,
}

// maskObjects returns the objects' masks for rendering, in the frame of
// r.Bounds moved to (0, 0), one per object (a nil mask draws nothing but
// keeps its instance id).
func (r *Result) maskObjects() []mask.Object {
	objs := make([]mask.Object, len(r.Objects))
	for k, o := range r.Objects {
		objs[k].Flag = flags[o.Class]
		if o.Mask != nil {
			m := *o.Mask
			m.Rect = m.Rect.Sub(r.Bounds.Min)
			objs[k].Mask = &m
		}
	}
	return objs
}

// BinaryMask renders the union of the objects' masks as a gray image,
// black background, white where objects are anonymized (Celantur's binary
// mask), scaled to scale percent of the image's size (1..100; 0 means
// DefaultMaskScale). Objects without a mask (an Anonymize result with
// DetectOnly) are not drawn.
func (r *Result) BinaryMask(scale int) (*image.Gray, error) {
	if scale == 0 {
		scale = DefaultMaskScale
	}
	g, err := mask.Binary(r.Bounds.Dx(), r.Bounds.Dy(), r.maskObjects(), scale, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrOption, err)
	}
	return g, nil
}

// InstanceMask renders Celantur's instance mask: R = 0, G = the object's
// instance id (its index in Result.Objects + 1; from the 255th object on,
// 255), B = the OR of the type flags of the objects covering the pixel
// (person 128, license-plate 64, face 32, vehicle 16: a plate on a car is
// 80), scaled as BinaryMask. Where objects overlap, G is the id of the
// later one: Objects puts plates and faces after vehicles and persons.
func (r *Result) InstanceMask(scale int) (*image.RGBA, error) {
	if scale == 0 {
		scale = DefaultMaskScale
	}
	img, err := mask.Instances(r.Bounds.Dx(), r.Bounds.Dy(), r.maskObjects(), scale, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrOption, err)
	}
	return img, nil
}
