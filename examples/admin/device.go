package main

import (
	"strings"
	"unicode"

	"github.com/mileusna/useragent"
)

// describeDevice names the browser and system of a User-Agent as a person
// says them: "Chrome on macOS". It reads only what the header claims.
func describeDevice(header string) string {
	if header == "" {
		return "Unknown device"
	}
	ua := useragent.Parse(header)
	name, os := printable(ua.Name), printable(ua.OS)
	switch {
	case name != "" && os != "":
		return name + " on " + os
	case name != "":
		return name
	case os != "":
		return "A browser on " + os
	}
	return "Unknown device"
}

// printable drops what a page should not show of a header: control and
// other unprintable characters, and the spaces around.
func printable(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, s))
}
