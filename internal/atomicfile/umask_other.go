//go:build !unix

package atomicfile

import "os"

// umask is zero where the system has none (Windows, WebAssembly): perm
// is applied as given, as far as the system can.
var umask os.FileMode
