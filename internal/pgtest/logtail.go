package pgtest

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// logTailLines is how many lines of the server log an error or a failed
// test shows.
const logTailLines = 30

// logSize returns the size of the log, to read what a start appends.
func logSize(path string) (int64, error) {
	info, err := os.Stat(path)
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("pgtest: %w", err)
	}
	return info.Size(), nil
}

// readLog returns the log from offset on.
func readLog(path string, offset int64) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("pgtest: read the server log: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return "", fmt.Errorf("pgtest: read the server log: %w", err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return "", fmt.Errorf("pgtest: read the server log: %w", err)
	}
	return string(data), nil
}

// tail returns the last n lines of text.
func tail(text string, n int) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// logTail returns the last lines of the log from offset on, for an
// error message; or why it could not be read.
func logTail(path string, offset int64) string {
	text, err := readLog(path, offset)
	if err != nil {
		return err.Error()
	}
	return tail(text, logTailLines)
}
