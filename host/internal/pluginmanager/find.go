package pluginmanager

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// binaryPrefix starts the file name of every driver plugin.
const binaryPrefix = "mogan-driver-"

// findBinary returns the path of the driver's executable in dir, or one
// line that says what is there instead.
func findBinary(dir, name string) (string, error) {
	if name == "" || strings.ContainsRune(name, os.PathSeparator) {
		return "", fmt.Errorf("driver name %q is not valid: it is the part after %q of a binary in the plugin directory", name, binaryPrefix)
	}
	path := filepath.Join(dir, binaryPrefix+name)
	if isExecutable(path) {
		return path, nil
	}
	found, err := driversIn(dir)
	if err != nil {
		return "", fmt.Errorf("driver %q not found: cannot read plugin directory %s: %w", name, dir, err)
	}
	list := "none"
	if len(found) > 0 {
		list = strings.Join(found, ", ")
	}
	return "", fmt.Errorf("driver %q not found: no executable %s%s in %s (found: %s)", name, binaryPrefix, name, dir, list)
}

// driversIn lists the names of the driver executables in dir.
func driversIn(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		name, ok := strings.CutPrefix(e.Name(), binaryPrefix)
		if ok && name != "" && isExecutable(filepath.Join(dir, e.Name())) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names, nil
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// Installed lists the names of the driver executables (mogan-driver-*) in
// dir, sorted.
func Installed(dir string) ([]string, error) { return driversIn(dir) }

// BinaryPath is the path of the driver's executable in dir, or an error
// saying what is there instead.
func BinaryPath(dir, name string) (string, error) { return findBinary(dir, name) }
