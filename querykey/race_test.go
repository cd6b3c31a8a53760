//go:build race

package querykey_test

const raceEnabled = true
