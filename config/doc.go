// Package config reads and validates gab's configuration: one TOML file per
// account under accounts/, UI settings in gab.toml, the XDG directories they
// live in, and the first-run writer. Every error names the file and, where the
// problem is in the file, the line.
//
// It imports nothing else of gab's, so every other package may use it.
package config
