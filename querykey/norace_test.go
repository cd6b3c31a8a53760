//go:build !race

package querykey_test

const raceEnabled = false
