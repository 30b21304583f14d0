//go:build race

package main

// raceEnabled is set when the tests run with -race: the binary under test is
// then built with -race too.
const raceEnabled = true
