package main

import "github.com/mileusna/useragent"

// describeDevice names the browser and system of a User-Agent as a person
// says them: "Chrome on macOS". It reads only what the header claims.
func describeDevice(header string) string {
	if header == "" {
		return "Unknown device"
	}
	ua := useragent.Parse(header)
	switch {
	case ua.Name != "" && ua.OS != "":
		return ua.Name + " on " + ua.OS
	case ua.Name != "":
		return ua.Name
	case ua.OS != "":
		return "A browser on " + ua.OS
	}
	return "Unknown device"
}
