// Package modelpath finds a model file for the tools that run every
// staged model: in the repository's models folder or, for a model veil
// does not ship, in the shared models folder beside the repository.
package modelpath

import (
	"fmt"
	"os"
	"path/filepath"
)

// Shared is the second folder Find looks in: the project's shared models
// beside the repository (absent on most machines).
const Shared = "../shared/models"

// Find returns the path of the model rel (slash-separated) in dir or,
// failing that, in Shared, or a note saying why it is in neither:
// notShipped, when not empty, is why veil does not ship the model.
func Find(dir, rel, notShipped string) (path, note string) {
	for _, d := range []string{dir, Shared} {
		p := filepath.Join(d, filepath.FromSlash(rel))
		if _, err := os.Stat(p); err == nil {
			return p, ""
		}
	}
	if notShipped != "" {
		return "", fmt.Sprintf("%s is not shipped (%s); it is read from %s, which is absent", rel, notShipped, Shared)
	}
	return "", fmt.Sprintf("%s is in neither %s nor %s", rel, dir, Shared)
}
