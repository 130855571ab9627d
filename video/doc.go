// Package video anonymizes videos frame by frame.
//
// Frames are decoded and encoded by the ffmpeg and ffprobe executables (the
// ffmpeg package of most systems, version 5.1 or later), run as
// subprocesses: [Probe] describes a file, a [Reader] decodes its frames as
// upright [image.RGBA] images and a [Writer] encodes such frames into a new
// file with the source's frame rate, size, rotation and audio. Raw frames go
// through pipes, so memory stays constant whatever the video's length. When
// the executables are missing the functions return an error wrapping
// [ErrNoFFmpeg]; the rest of the package needs no ffmpeg.
//
// A [Tracker] follows objects across frames (SORT: a constant-velocity
// Kalman filter per track, detections matched by IoU per class) and
// carries an object for a few frames after the detector loses it. A
// [Pipeline] runs detection, tracking and rendering over a stream of
// frames with a short look-ahead, so that an object found late is also
// anonymized in the frames before: no frame shows an object its
// neighbours found. The package knows nothing of models; the caller
// supplies the detector and the renderer.
//
// # Orientation
//
// Videos recorded by phones are often stored sideways with a display
// rotation in the container (the display matrix of MP4 and MOV files).
// [Info.Rotation] is that rotation in degrees clockwise; the frames of a
// [Reader] are turned upright, and [Info.Width] and [Info.Height] are the
// upright size. A [Writer] turns the frames back to the stored orientation
// and records the same rotation, so that players show the output as they
// showed the source.
package video
