// Package blur anonymizes regions of an image: it builds soft-edged
// coverage masks for boxes, ellipses and convex polygons, and blurs,
// pixelates or blackens an [image.RGBA] under such a mask.
//
// A mask is an [Alpha], the package mask's [mask.Mask]: one byte per pixel
// over a rectangle, 255 where the pixel is fully anonymized and 0 where it
// is left as is (a segmentation mask can be blurred as it is).
// [BoxAlpha], [EllipseAlpha] and [PolygonAlpha] make one for a shape, with
// the soft edge of a [Gradient]; [Union] joins several and
// [mask.Mask.Clear] cuts out ignore regions. [Blur], [Pixelate] and [Blacken] then change the image
// under the mask, blending the anonymized colour c with the original o by
// the mask's value a as (a*c + (255-a)*o)/255 per channel; the alpha
// channel of the image is never changed.
//
// # Shapes and gradients
//
// All shapes are measured by the gauge g(p) of the shape S about its
// centre c: the smallest s >= 0 with p in c + s·(S − c), so that g is 1 on
// the outline, less inside and more outside. For a box of half sizes hw, hh
// it is max(|dx|/hw, |dy|/hh), for the ellipse inscribed in that box
// sqrt((dx/hw)²+(dy/hh)²), and for a convex polygon the largest
// (n·(p−c))/h over its edges, n being an edge's outward unit normal and h
// the distance from c (the mean of the vertices) to the edge's line.
//
// A Gradient{Start, Stop} turns the gauge, taken at pixel centres, into
// alpha: with si = max(0, 1−2·Stop) and so = 1+2·Start, alpha is 255 for
// g <= si, 0 for g >= so and 255·(1 − smoothstep((g−si)/(so−si))) in
// between. When so−si is less than one pixel's worth of gauge, 1/m with m
// the shape's smallest half size (for a polygon the smallest h), so is
// moved out to si + 1/m: the edge is then anti-aliased over about one pixel
// outside the shape, which itself stays fully covered. A box, whose gauge
// is the larger of one gauge per axis, takes m per axis (hw across, hh
// down), so that a long thin box too is anti-aliased over one pixel at its
// ends rather than over hw/hh pixels.
//
// # Blur
//
// [Blur] approximates a Gaussian by three box blurs per axis (the box
// widths of Kuckir's "fastest Gaussian blur", after Kovesi), each a running
// sum, so its cost per pixel does not depend on sigma. It reads pixels up
// to the boxes' total radius (about 3 sigma) around the mask, replicating
// the image's edge pixels beyond its bounds, and splits large regions
// across runtime.GOMAXPROCS goroutines. A blur of sigma 8 or more, which
// keeps no detail finer than that, runs on a copy of the region reduced
// by a power of two f (f×f means, sigma/f of 3 to 6 pixels), with box
// radii whose variance, with the reduction's and the interpolation's, is
// at least sigma², and is interpolated back bilinearly: within a few
// levels of the full-size blur and as smooth, at a fraction of its cost
// (a face of 50 px, sigma 12.5, is reduced by 4).
package blur
