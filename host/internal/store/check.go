package store

// CheckConnection checks a `[database] connection` value as Open reads it,
// without connecting or creating anything (mogan-api check-config). The
// error wraps ErrInvalidConnection and never repeats the value, which may
// hold a password.
func CheckConnection(connection string) error {
	_, err := parseConnection(connection)
	return err
}
